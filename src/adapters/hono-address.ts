/**
 * The client's address for a Hono request (stored as `sess_addr_created` and
 * `sess_addr_modified`). Hono runs on several runtimes, each with its own `getConnInfo`
 * (hono/bun, hono/deno, hono/cloudflare-workers, @hono/node-server/conninfo): the option
 * takes yours; without it, @hono/node-server's is loaded when it is installed, and on a
 * runtime without it the address is not recorded.
 */
import type { Context } from 'hono';
import type { GetConnInfo } from './hono-options.js';

/**
 * @hono/node-server's `getConnInfo`, loaded once, or `undefined` where it is not
 * installed (or not on Node). The module name is a variable so that bundlers for other
 * runtimes (workers, Deno) leave this optional import alone instead of failing on it.
 */
let nodeConnInfo: Promise<GetConnInfo | undefined> | undefined;
const NODE_CONNINFO = '@hono/node-server/conninfo';

export function loadNodeConnInfo(): Promise<GetConnInfo | undefined> {
  nodeConnInfo ??= import(NODE_CONNINFO).then(
    (module: { getConnInfo?: unknown }) =>
      typeof module.getConnInfo === 'function' ? (module.getConnInfo as GetConnInfo) : undefined,
    () => undefined,
  );
  return nodeConnInfo;
}

/**
 * The client's address: the left-most `X-Forwarded-For` entry when the proxy in front is
 * trusted (`trustProxy`) and sent one, else the connection's remote address; `undefined`
 * when neither is known (a request that did not come through a server: `app.request()`).
 */
export function honoClientAddress(
  c: Context,
  trustProxy: boolean,
  getConnInfo: GetConnInfo | undefined,
): string | undefined {
  if (trustProxy) {
    const forwarded = c.req.header('x-forwarded-for')?.split(',')[0]?.trim();
    if (forwarded) return forwarded;
  }
  try {
    return getConnInfo?.(c).remote.address || undefined;
  } catch {
    return undefined; // not served by the server this getConnInfo is for
  }
}
