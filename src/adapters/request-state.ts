/**
 * What every framework adapter does the same way: remember what a request read, take the
 * session's lifetime from its cookie, the client's address from the request, and refuse a
 * stored session that is not an object.
 */
import { ErrorCodes, SessionPgsqlError } from '../errors.js';
import type { LoadedSession } from '../store/session-reader.js';
import type { SessionState } from '../store/session-state.js';

/** What the store knows of one request's session, kept beside the framework's session object. */
export interface RequestSession {
  /** What `core.read` returned for this request: passed back to `write` and `touch`. */
  readonly state: SessionState;
  /**
   * `cookie.originalMaxAge` as read, for frameworks that recompute it from the clock
   * (express-session: 600000 can come back as 599999 when a millisecond ticks in between).
   */
  readonly originalMaxAge?: number | undefined;
}

/** What an adapter reads of a request for the stored client address (`sess_addr_*`). */
export interface AddressSource {
  /** The framework's client address, which honours its trust-proxy setting. */
  readonly ip?: string | undefined;
  readonly socket?: { readonly remoteAddress?: string | undefined } | undefined;
}

/** The client's address: the framework's `ip` (Express `trust proxy`, Fastify `trustProxy`), else the socket's. */
export function clientAddress(request: AddressSource | undefined): string | undefined {
  return request?.ip ?? request?.socket?.remoteAddress;
}

/** Seconds from now until a cookie's expiry; `undefined` for a cookie without one (the `ttl` option applies). */
export function lifetimeSecondsUntil(
  expires: Date | string | null | undefined,
): number | undefined {
  return expires ? (new Date(expires).getTime() - Date.now()) / 1000 : undefined;
}

/** The cookie expiry of a session just read: what remains of the stored one, by the database's clock. */
export function expiryOf(state: SessionState): string | undefined {
  const remaining = state.remainingMillis();
  return remaining !== undefined && remaining > 0
    ? new Date(Date.now() + remaining).toISOString()
    : undefined;
}

/** A stored session as a framework needs it: an object (a row written otherwise is refused, and left as it is). */
export function sessionObject(data: unknown, framework: string): Record<string, unknown> {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    const what = Array.isArray(data) ? 'an array' : `a ${data === null ? 'null' : typeof data}`;
    throw new SessionPgsqlError(
      ErrorCodes.INVALID_SESSION_DATA,
      `the stored session is ${what}, not an object: ${framework} cannot use it (the row is left as it is)`,
    );
  }
  return data as Record<string, unknown>;
}

/** The error for a metadata helper called on a request without a session of this store. */
export function noSession(setup: string): SessionPgsqlError {
  return new SessionPgsqlError(
    ErrorCodes.NO_SESSION,
    `this request has no session from a PgsqlStore (${setup})`,
  );
}

/**
 * A callback store's `get`: the row read, made into the framework's session by `toSession`;
 * `null` for no session. A failure (of the database or of `toSession`) reaches the
 * callback: never an empty session in its place.
 */
export function readForCallback<Data, Session>(
  read: Promise<LoadedSession<Data> | undefined>,
  toSession: (loaded: LoadedSession<Data>) => Session,
  callback: (error: unknown, session?: Session | null) => void,
): void {
  read.then((loaded) => {
    if (!loaded) return callback(null, null);
    let session: Session;
    try {
      session = toSession(loaded);
    } catch (error) {
      return callback(error);
    }
    callback(null, session);
  }, callback);
}
