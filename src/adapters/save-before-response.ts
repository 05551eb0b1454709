/**
 * "An answer means it is stored", for express-session. express-session saves a session in
 * its wrapper of `res.end`, and writes the status and the body before that save finishes:
 * a save that fails still reaches the browser as a 200. This middleware, installed after
 * `session()`, stores the session before the response's headers go out, and on failure
 * hands the error to Express, which answers it instead.
 */

/** What the guard reads of Express's request. */
export interface GuardedRequest {
  readonly session?: object | null | undefined;
  readonly sessionID?: string | undefined;
  readonly sessionStore?: unknown;
}

/** What the guard wraps of Express's response. */
export interface GuardedResponse {
  readonly headersSent: boolean;
  statusCode: number;
  end(...args: never[]): unknown;
  removeHeader(name: string): void;
}

/** Headers that describe the answer given up when storing failed (`res.redirect`'s Location...). */
export const ANSWER_HEADERS = [
  'content-type',
  'content-length',
  'content-disposition',
  'etag',
  'last-modified',
  'location',
];

/**
 * Stores with a way to store a request's session now: a PgsqlStore registers itself here.
 * Resolves once it is stored (or there was nothing to store), rejects when the store failed.
 */
export const committers = new WeakMap<object, (req: GuardedRequest) => Promise<void>>();

/**
 * Express middleware: install it right after `session({ store: new PgsqlStore(...) })`.
 * Before a response ends (`res.send`, `res.json`, `res.redirect`, `res.end`), the session is
 * stored when express-session would store it (a session that was read, or a new one with
 * data in it), then the response goes out; when storing fails, the error goes to `next`, so
 * the application's error handler answers it instead of a success (the status is then 500
 * and the headers of the answer given up, such as a redirect's Location, are removed). express-session's
 * own save at the end of the request then writes nothing more.
 *
 * It cannot change a status that is already sent: a response whose headers went out before
 * `res.end` (`res.write`, a piped stream, `res.sendFile`, `res.writeHead`, `res.flushHeaders`)
 * is stored after it as before. Save before streaming (`req.session.save(callback)`).
 */
export function saveBeforeResponse(): (
  req: GuardedRequest,
  res: GuardedResponse,
  next: (error?: unknown) => void,
) => void {
  return function saveSessionBeforeResponse(req, res, next) {
    const store = req.sessionStore;
    const commit = typeof store === 'object' && store !== null ? committers.get(store) : undefined;
    if (!commit) {
      next();
      return;
    }
    const end = res.end;
    let ending = false;
    res.end = function endAfterStoring(this: GuardedResponse, ...args: never[]) {
      if (ending || res.headersSent) return end.apply(this, args);
      ending = true;
      commit(req).then(
        () => end.apply(this, args),
        (error: unknown) => {
          // the error handler answers instead: not with the headers of the answer it replaces
          for (const name of ANSWER_HEADERS) res.removeHeader(name);
          res.statusCode = 500;
          next(error);
        },
      );
      return this;
    };
    next();
  };
}
