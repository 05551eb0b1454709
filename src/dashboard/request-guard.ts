/** The header a revoke must carry: a cross-origin page cannot send it without CORS consent. */
export const REVOKE_HEADER = 'x-session-pgsql-dashboard';

/**
 * Why a state-changing request must be refused, or `undefined` when it may go on. A
 * cross-site request forgery is refused three ways: the request must carry
 * {@link REVOKE_HEADER} and a JSON body (a form or a plain `fetch` from another origin can
 * send neither without a CORS preflight, which the dashboard never answers), and the
 * browser's own word, `Sec-Fetch-Site` or else `Origin`, must name this origin.
 */
export function refusal(request: Request): string | undefined {
  const headers = request.headers;
  if (headers.get(REVOKE_HEADER) !== 'revoke') return `the ${REVOKE_HEADER} header is missing`;
  const type = headers.get('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) return 'the body must be application/json';
  const site = headers.get('sec-fetch-site');
  if (site !== null) return site === 'same-origin' ? undefined : `a ${site} request`;
  const origin = headers.get('origin');
  if (origin === null) return undefined; // not a browser that sends either: no forgery
  const host = headers.get('host');
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    return 'a malformed Origin header';
  }
  return host !== null && originHost === host.toLowerCase() ? undefined : 'a cross-origin request';
}
