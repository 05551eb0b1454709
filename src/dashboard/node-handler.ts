import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Dashboard } from './dashboard.js';
import { MAX_BODY_BYTES } from './dashboard.js';

/** A node request, as Express and Koa hand it on (a body parser may have read the body). */
type NodeRequest = IncomingMessage & { body?: unknown };

/** A node `(req, res)` handler; as Express middleware it passes its failures to `next`. */
export type NodeHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  next?: (error?: unknown) => void,
) => void;

/** The body as text: what a body parser already read, else read from the stream (capped). */
async function bodyText(req: NodeRequest, parsed: unknown): Promise<string> {
  if (typeof parsed === 'string') return parsed;
  if (parsed !== undefined && parsed !== null && !Buffer.isBuffer(parsed))
    return JSON.stringify(parsed);
  if (Buffer.isBuffer(parsed)) return parsed.toString('utf8');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) break; // the dashboard answers 413
    chunks.push(chunk);
  }
  return (
    Buffer.concat(chunks).toString('utf8') +
    (size > MAX_BODY_BYTES ? ' '.repeat(MAX_BODY_BYTES) : '')
  );
}

/**
 * A fetch `Request` for a node request, at `path` (relative to where the dashboard is
 * mounted). `parsed` is the body a framework already read, if any.
 */
export async function toFetchRequest(
  req: IncomingMessage,
  path: string,
  parsed?: unknown,
): Promise<Request> {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const method = (req.method ?? 'GET').toUpperCase();
  const hasBody = method !== 'GET' && method !== 'HEAD';
  const body = hasBody
    ? await bodyText(req as NodeRequest, parsed ?? (req as NodeRequest).body)
    : undefined;
  const url = new URL(path.startsWith('/') ? path : `/${path}`, 'http://dashboard.invalid');
  return new Request(url, { method, headers, ...(body === undefined ? {} : { body }) });
}

/** Writes a fetch `Response` to a node response. */
export async function sendResponse(response: Response, res: ServerResponse): Promise<void> {
  res.statusCode = response.status;
  response.headers.forEach((value, name) => {
    res.setHeader(name, value);
  });
  res.end(Buffer.from(await response.arrayBuffer()));
}

/**
 * The dashboard as a node handler: for `http.createServer(handler)` (served at the root)
 * or Express's `app.use('/some/path', auth, handler)` (Express strips the mount path).
 */
export function nodeHandler(dashboard: Dashboard): NodeHandler {
  return (req, res, next) => {
    toFetchRequest(req, req.url ?? '/')
      .then(dashboard.fetch)
      .then((response) => sendResponse(response, res))
      .catch((error: unknown) => {
        if (next) return next(error);
        res.statusCode = 500;
        res.end();
      });
  };
}
