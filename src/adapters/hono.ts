/**
 * `session-pgsql/hono`: a session middleware for Hono (4.6 and later) on the framework-free
 * core, and session_pgsql's metadata helpers taking Hono's context. The session cookie
 * is signed with hono/cookie; the session is stored after the handler and before the
 * response is returned, so a failed save is an error response, never a lost change.
 * It imports nothing of Node at its top: Hono runs on Bun, Deno and workers too.
 */
import type { Context, MiddlewareHandler } from 'hono';
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie';
import type { SessionState } from '../store/session-state.js';
import type { SessionPgsql } from '../store/store.js';
import { honoClientAddress, loadNodeConnInfo } from './hono-address.js';
import {
  type GetConnInfo,
  type HonoSessionOptions,
  type ResolvedHonoOptions,
  resolveHonoOptions,
  type StoredSession,
} from './hono-options.js';
import { Session, type SessionData, type SessionHandle } from './hono-session.js';
import { metadataHelpers } from './metadata-helpers.js';
import { noSession, sessionObject } from './request-state.js';
import { ANSWER_HEADERS } from './save-before-response.js';

/** hono/cookie's cookie attributes. */
type CookieOptions = NonNullable<Parameters<typeof setSignedCookie>[4]>;

/** Hono's Variables of an app using sessions: `new Hono<{ Variables: SessionVariables<MyData> }>()`. */
export interface SessionVariables<Data extends SessionData = SessionData> {
  session: Session<Data>;
}

/** Hono's Env of an app using sessions: `new Hono<SessionEnv<MyData>>()`. */
export type SessionEnv<Data extends SessionData = SessionData> = {
  Variables: SessionVariables<Data>;
};

/** The middleware, and the store it uses (to close it on shutdown). */
export type SessionMiddleware<Data extends SessionData = SessionData> = MiddlewareHandler<
  SessionEnv<Data>
> & { readonly store: SessionPgsql<StoredSession> };

/** Each request's session, by its context: what the metadata helpers and the save find. */
const handles = new WeakMap<object, SessionHandle>();

/**
 * The session middleware: reads the session of the request's signed cookie before the
 * handler (`c.get('session')`), and stores it after the handler, before the response is
 * returned. A database failure while reading, or while storing, is an error (Hono's error
 * handler answers it, a 500 by default): never an empty session, never a 200 whose change
 * was lost.
 */
export function sessionMiddleware<Data extends SessionData = SessionData>(
  options: HonoSessionOptions,
): SessionMiddleware<Data> {
  const o = resolveHonoOptions(options);
  const connInfo: Promise<GetConnInfo | undefined> =
    o.getConnInfo === undefined ? loadNodeConnInfo() : Promise.resolve(o.getConnInfo);
  const middleware: MiddlewareHandler<SessionEnv<Data>> = async function sessionPgsql(c, next) {
    const cookie = await signedSessionId(c, o);
    const handle = await readSession(o.store, cookie?.id);
    handles.set(c, handle);
    c.set('session', new Session<Data>(handle, o.store));
    await next();
    try {
      await storeSession(c, handle, o, cookie, await connInfo);
    } catch (error) {
      giveUpAnswer(c);
      throw error; // Hono's error handler answers instead
    }
  };
  return Object.assign(middleware, { store: o.store });
}

/**
 * Drops the handler's answer when its session could not be stored: Hono's error handler
 * answers instead, and Hono gives that answer the headers of the current one (those of
 * middleware, such as CORS), so the headers that describe the answer given up (a
 * redirect's Location, its Content-Type...) are removed first.
 */
function giveUpAnswer(c: Context): void {
  const given = c.res;
  const headers = new Headers(given.headers);
  for (const name of ANSWER_HEADERS) headers.delete(name);
  given.body?.cancel().catch(() => {});
  c.res = undefined; // no merge of the given-up answer's headers into the next one
  c.res = new Response(null, { status: 500, headers });
}

/** The session id of the request's cookie, if its signature is one of the secrets'. */
async function signedSessionId(
  c: Context,
  o: ResolvedHonoOptions,
): Promise<{ id: string; oldSecret: boolean } | undefined> {
  for (const [index, secret] of o.secrets.entries()) {
    const id = await getSignedCookie(c, secret, o.cookieName, o.cookie.prefix);
    if (id === undefined) return undefined; // no session cookie
    if (id !== false) return { id, oldSecret: index > 0 };
  }
  return undefined; // signed with none of them: a new session
}

/** The stored session of an id, or a new one. Rejects when the database fails. */
async function readSession(
  core: SessionPgsql<StoredSession>,
  id: string | undefined,
): Promise<SessionHandle> {
  const loaded = id === undefined ? undefined : await core.read(id);
  if (id === undefined || loaded === undefined) {
    const newId = core.generateId();
    return newHandle(newId, core.newState(newId));
  }
  // an expired session kept by keepExpired: its id and metadata, no data
  if (loaded.data === undefined) return newHandle(id, loaded.state);
  const data = sessionObject(loaded.data, 'the Hono session middleware');
  return { id, data, state: loaded.state, stored: true, regenerated: false, destroyed: false };
}

const newHandle = (id: string, state: SessionState): SessionHandle => ({
  id,
  data: {},
  state,
  stored: false,
  regenerated: false,
  destroyed: false,
});

/**
 * Stores the session as the handler left it, then sets its cookie: a new session once it
 * holds something (or always, with `saveUninitialized`, or regenerated); a stored one when
 * its data or metadata changed (one write), or with `rolling` (a touch, which the short
 * circuit skips while the stored expiry is fresh). An unchanged session without `rolling`
 * costs nothing. Throws when storing fails: the response is then Hono's error answer,
 * without the cookie.
 */
async function storeSession(
  c: Context,
  handle: SessionHandle,
  o: ResolvedHonoOptions,
  cookie: { id: string; oldSecret: boolean } | undefined,
  getConnInfo: GetConnInfo | undefined,
): Promise<void> {
  if (handle.destroyed) {
    if (cookie !== undefined) deleteCookie(c, o.cookieName, cookieAttributes(o));
    return;
  }
  const core = o.store;
  const write = () => ({
    state: handle.state,
    lifetimeSeconds: o.ttlSeconds,
    address: honoClientAddress(c, o.trustProxy, getConnInfo),
  });
  if (!handle.stored) {
    const empty = Object.keys(handle.data).length === 0 && !handle.state.dirty;
    if (empty && !handle.regenerated && !o.saveUninitialized) return;
    await core.write(handle.id, handle.data, write());
  } else if (handle.state.dirty || changed(core, handle)) {
    await core.write(handle.id, handle.data, write());
  } else if (o.rolling) {
    await core.touch(handle.id, write());
  } else {
    // unchanged, not rolling: no write; a cookie signed with an old secret is signed anew
    if (cookie?.oldSecret) await setSessionCookie(c, handle.id, o, false);
    return;
  }
  await setSessionCookie(c, handle.id, o, true);
}

/** True when the session's data is not what was read (also for objects changed in place). */
function changed(core: SessionPgsql<StoredSession>, handle: SessionHandle): boolean {
  try {
    return core.options.serializer.stringify(handle.data) !== handle.state.snapshot?.raw;
  } catch {
    return true; // the write reports it (SPG_SERIALIZE_FAILED)
  }
}

function cookieAttributes(o: ResolvedHonoOptions): CookieOptions {
  const { secure, httpOnly, sameSite, path, domain, partitioned, prefix } = o.cookie;
  return {
    secure,
    httpOnly,
    sameSite,
    path,
    partitioned,
    ...(domain === undefined ? {} : { domain }),
    ...(prefix === undefined ? {} : { prefix }),
  } as CookieOptions;
}

/** The signed session cookie; `extended`: with the full lifetime from now (the row's). */
async function setSessionCookie(
  c: Context,
  id: string,
  o: ResolvedHonoOptions,
  extended: boolean,
): Promise<void> {
  const remaining = extended
    ? o.ttlSeconds
    : Math.floor((handles.get(c)?.state.remainingMillis() ?? 0) / 1000);
  if (remaining <= 0) return;
  await setSignedCookie(
    c,
    o.cookieName,
    id,
    o.secrets[0] as string,
    {
      ...cookieAttributes(o),
      maxAge: remaining,
      expires: new Date(Date.now() + remaining * 1000),
    } as CookieOptions,
  );
}

function stateOf(c: Context): SessionState {
  const handle = handles.get(c);
  if (!handle || handle.destroyed) {
    throw noSession(
      handle
        ? 'the session was destroyed in this request'
        : 'is sessionMiddleware installed before this route?',
    );
  }
  return handle.state;
}

export const { sessionInfo, getField, setField, addError, getError } = metadataHelpers(stateOf);

export { ErrorCodes, SessionPgsqlError } from '../errors.js';
export type { SessionPgsqlOptions } from '../options/options.js';
export type { ErrorCounters, ErrorLevel, SessionInfo } from '../store/session-state.js';
export type { GetConnInfo, HonoCookieOptions, HonoSessionOptions } from './hono-options.js';
export type { Session, SessionData } from './hono-session.js';
