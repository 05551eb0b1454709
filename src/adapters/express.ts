import type { SessionData } from 'express-session';
import session from 'express-session';
import { ErrorCodes, SessionPgsqlError } from '../errors.js';
import type { SessionPgsqlOptions } from '../options/options.js';
import type { LoadedSession } from '../store/session-reader.js';
import type {
  ErrorCounters,
  ErrorLevel,
  SessionInfo,
  SessionState,
} from '../store/session-state.js';
import { SessionPgsql } from '../store/store.js';

type Callback<T = void> = (error?: unknown, value?: T) => void;

/** What the adapter reads of a request: Express's `req.ip` honours `trust proxy`. */
interface RequestLike {
  ip?: string | undefined;
  socket?: { remoteAddress?: string | undefined } | undefined;
  session?: object | undefined;
  sessionID?: string | undefined;
  sessionStore?: unknown;
}

/** A session as stored: express-session's data, the cookie without its expiry (the row has it). */
type StoredSession = { cookie?: { expires?: unknown; originalMaxAge?: number | null } } & Record<
  string,
  unknown
>;

/** What the store knows of each request's session, keyed by the object express-session hands around. */
interface RequestSession {
  readonly state: SessionState;
  /**
   * `cookie.originalMaxAge` as read. express-session recomputes it from the clock whenever
   * it sets the expiry (`rolling`, `resetMaxAge`): 600000 can come back as 599999 when a
   * millisecond ticks in between, which would defeat the short circuit.
   */
  readonly originalMaxAge?: number | undefined;
}
const sessions = new WeakMap<object, RequestSession>();

/**
 * An express-session store keeping sessions in PostgreSQL. Pass the options of
 * {@link SessionPgsql}, or a `SessionPgsql` you built to share it with other adapters.
 */
export class PgsqlStore extends session.Store {
  readonly core: SessionPgsql<StoredSession>;

  constructor(options: SessionPgsqlOptions<StoredSession> | SessionPgsql<StoredSession> = {}) {
    super();
    this.core =
      options instanceof SessionPgsql ? options : new SessionPgsql<StoredSession>(options);
  }

  override get(
    sid: string,
    callback: (error: unknown, session?: SessionData | null) => void,
  ): void {
    this.core.read(sid).then((loaded) => {
      if (!loaded) return callback(null, null);
      let data: StoredSession;
      try {
        data = sessionOf(loaded);
      } catch (error) {
        return callback(error);
      }
      callback(null, data as unknown as SessionData);
    }, callback);
  }

  /** express-session turns what `get` returned into a Session: carry the state over. */
  override createSession(
    req: Parameters<session.Store['createSession']>[0],
    data: SessionData,
  ): session.Session & SessionData {
    const known = sessions.get(data);
    // A row without express-session's cookie (written by PHP, or the core API): the cookie
    // this app gives new sessions, with its attributes (secure, sameSite...).
    if (!isObject((data as { cookie?: unknown }).cookie)) defaultCookie(this, req, data);
    const created = super.createSession(req, data);
    if (known) sessions.set(created, known);
    return created;
  }

  override set(sid: string, data: SessionData, callback?: Callback): void {
    const stored: StoredSession = {
      ...data,
      cookie: withoutExpires(data.cookie, sessions.get(data)?.originalMaxAge),
    };
    this.core.write(sid, stored, writeOptions(data)).then(
      () => callback?.(),
      (error: unknown) => callback?.(error),
    );
  }

  override touch(sid: string, data: SessionData, callback?: Callback): void {
    this.core.touch(sid, writeOptions(data)).then(
      () => callback?.(),
      (error: unknown) => callback?.(error),
    );
  }

  override destroy(sid: string, callback?: Callback): void {
    this.core.destroy(sid).then(
      () => callback?.(),
      (error: unknown) => callback?.(error),
    );
  }

  /** Every live session, keyed by stored key (the SHA-256 digest of the id with `hashIds`). */
  override all(
    callback: (error: unknown, sessions?: Record<string, SessionData> | null) => void,
  ): void {
    this.core
      .all()
      .then(
        (sessions) =>
          callback(null, Object.fromEntries(sessions) as unknown as Record<string, SessionData>),
        callback,
      );
  }

  override length(callback: (error: unknown, length?: number) => void): void {
    this.core.length().then((length) => callback(null, length), callback);
  }

  override clear(callback?: Callback): void {
    this.core.clear().then(
      () => callback?.(),
      (error: unknown) => callback?.(error),
    );
  }

  /** Stored keys of every live session (see `all`). */
  ids(callback: (error: unknown, ids?: string[]) => void): void {
    this.core.ids().then((ids) => callback(null, ids), callback);
  }

  /** Stops background work and closes the connections the store opened. */
  close(): Promise<void> {
    return this.core.close();
  }
}

/**
 * The session express-session gets for a row: its data with the cookie's expiry taken from
 * the row (only that one is stored, by the database's clock); an expired session kept by
 * keepExpired starts empty, with the cookie settings it had.
 */
function sessionOf(loaded: LoadedSession<StoredSession>): StoredSession {
  const data: unknown =
    loaded.data === undefined
      ? { cookie: loaded.expiredData?.cookie ?? { originalMaxAge: null } }
      : loaded.data;
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new SessionPgsqlError(
      ErrorCodes.INVALID_SESSION_DATA,
      `the stored session is ${Array.isArray(data) ? 'an array' : `a ${data === null ? 'null' : typeof data}`}, not an object: express-session cannot use it (the row is left as it is)`,
    );
  }
  const session = data as StoredSession;
  const cookie =
    typeof session.cookie === 'object' && session.cookie !== null ? session.cookie : undefined;
  const remaining = loaded.state.remainingMillis();
  if (cookie?.originalMaxAge != null && remaining !== undefined && remaining > 0) {
    cookie.expires = new Date(Date.now() + remaining).toISOString();
  }
  const maxAge = cookie?.originalMaxAge;
  sessions.set(session, {
    state: loaded.state,
    originalMaxAge: typeof maxAge === 'number' ? maxAge : undefined,
  });
  return session;
}

const isObject = (value: unknown): value is object => typeof value === 'object' && value !== null;

/**
 * Gives a session read without a cookie the one express-session makes for a new session
 * (`store.generate`, installed by the middleware: the app's cookie options), leaving the
 * request's session id as it was; without the middleware, a cookie without expiry.
 */
function defaultCookie(
  store: session.Store,
  req: Parameters<session.Store['createSession']>[0],
  data: SessionData,
): void {
  const generate = (store as { generate?: (req: unknown) => void }).generate;
  let cookie: object | undefined;
  if (typeof generate === 'function') {
    const { sessionID, session: current } = req;
    generate.call(store, req);
    const made = req.session?.cookie as { toJSON?: () => object } | undefined;
    cookie = made?.toJSON?.();
    Object.assign(req, { sessionID, session: current });
  }
  (data as { cookie: unknown }).cookie = cookie ?? { originalMaxAge: null };
}

/** The cookie as stored: no expiry (the row has it), and the originalMaxAge read if it only drifted. */
function withoutExpires(cookie: unknown, readMaxAge: number | undefined): Record<string, unknown> {
  const json = (cookie as { toJSON?: () => Record<string, unknown> } | undefined)?.toJSON?.() ?? {
    ...(cookie as object),
  };
  const { expires: _expires, ...rest } = json;
  const maxAge = rest.originalMaxAge;
  if (
    readMaxAge !== undefined &&
    typeof maxAge === 'number' &&
    Math.abs(maxAge - readMaxAge) < 1000
  )
    rest.originalMaxAge = readMaxAge;
  return rest;
}

function writeOptions(data: SessionData): {
  lifetimeSeconds: number | undefined;
  address: string | undefined;
  state: SessionState | undefined;
} {
  const expires = (data.cookie as { expires?: Date | string | null } | undefined)?.expires;
  const req = (data as { req?: RequestLike }).req;
  return {
    lifetimeSeconds: expires ? (new Date(expires).getTime() - Date.now()) / 1000 : undefined,
    address: req?.ip ?? req?.socket?.remoteAddress,
    state: sessions.get(data)?.state,
  };
}

function stateOf(req: RequestLike): SessionState {
  const store = req.sessionStore;
  if (!req.session || !(store instanceof PgsqlStore) || typeof req.sessionID !== 'string') {
    throw new SessionPgsqlError(
      ErrorCodes.NO_SESSION,
      'this request has no session from a PgsqlStore (is express-session installed before this route?)',
    );
  }
  let known = sessions.get(req.session);
  if (!known) {
    known = { state: store.core.newState(req.sessionID) };
    sessions.set(req.session, known);
  }
  return known.state;
}

/** The session's row: id, server, accesses, counters, times and addresses (session_pgsql_info). */
export function sessionInfo(req: RequestLike): SessionInfo {
  return stateOf(req).info();
}

/** The free application field (session_pgsql_get_field). */
export function getField(req: RequestLike): string | null {
  return stateOf(req).getField();
}

/** Sets the free application field; it is written at the end of the request (session_pgsql_set_field). */
export function setField(req: RequestLike, value: string | null): void {
  stateOf(req).setField(value);
}

/** Raises the error, warning or notice counter, with an optional message (session_pgsql_add_error). */
export function addError(req: RequestLike, level: ErrorLevel, message?: string): void {
  stateOf(req).addError(level, message);
}

/** The error, warning and notice counters, and the last message when asked (session_pgsql_get_error). */
export function getError(req: RequestLike, withMessage = false): ErrorCounters {
  return stateOf(req).getError(withMessage);
}

export { ErrorCodes, SessionPgsqlError } from '../errors.js';
export type { SessionPgsqlOptions } from '../options/options.js';
export type { ErrorCounters, ErrorLevel, SessionInfo } from '../store/session-state.js';
