/**
 * express-session's sessions as stored: the row's data with the cookie's expiry taken from
 * the row's, the cookie stored without it, and what each request read kept beside its
 * session object.
 */

import type session from 'express-session';
import type { SessionData } from 'express-session';
import type { LoadedSession } from '../store/session-reader.js';
import type { SessionState } from '../store/session-state.js';
import {
  clientAddress,
  lifetimeSecondsUntil,
  type RequestSession,
  sessionObject,
} from './request-state.js';

/** What the adapter reads of a request: Express's `req.ip` honours `trust proxy`. */
export interface RequestLike {
  ip?: string | undefined;
  socket?: { remoteAddress?: string | undefined } | undefined;
  session?: object | undefined;
  sessionID?: string | undefined;
  sessionStore?: unknown;
}

/** A session as stored: express-session's data, the cookie without its expiry (the row has it). */
export type StoredSession = {
  cookie?: { expires?: unknown; originalMaxAge?: number | null };
} & Record<string, unknown>;

/** What the store knows of each request's session, keyed by the object express-session hands around. */
export const sessions = new WeakMap<object, RequestSession>();
/**
 * The session express-session gets for a row: its data with the cookie's expiry taken from
 * the row (only that one is stored, by the database's clock); an expired session kept by
 * keepExpired starts empty, with the cookie settings it had.
 */
export function sessionOf(loaded: LoadedSession<StoredSession>): StoredSession {
  const data: unknown =
    loaded.data === undefined
      ? { cookie: loaded.expiredData?.cookie ?? { originalMaxAge: null } }
      : loaded.data;
  const session = sessionObject(data, 'express-session') as StoredSession;
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

export const isObject = (value: unknown): value is object =>
  typeof value === 'object' && value !== null;

/**
 * Gives a session read without a cookie the one express-session makes for a new session
 * (`store.generate`, installed by the middleware: the app's cookie options), leaving the
 * request's session id as it was; without the middleware, a cookie without expiry.
 */
export function defaultCookie(
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
export function withoutExpires(
  cookie: unknown,
  readMaxAge: number | undefined,
): Record<string, unknown> {
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

export function writeOptions(
  sid: string,
  data: SessionData,
): {
  lifetimeSeconds: number | undefined;
  address: string | undefined;
  state: SessionState | undefined;
} {
  const expires = (data.cookie as { expires?: Date | string | null } | undefined)?.expires;
  return {
    lifetimeSeconds: lifetimeSecondsUntil(expires),
    address: clientAddress((data as { req?: RequestLike }).req),
    state: sessionState(sid, data),
  };
}

/** The state of this session object, if it is of this id. */
function sessionState(sid: string, data: object): SessionState | undefined {
  const state = sessions.get(data)?.state;
  return state?.id === sid ? state : undefined;
}
