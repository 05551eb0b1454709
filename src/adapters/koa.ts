/**
 * `session-pgsql/koa`: a store for koa-session (v7, Koa 3) on the framework-free core, and
 * session_pgsql's metadata helpers taking Koa's `ctx`. It imports neither Koa nor
 * koa-session: it declares the few shapes of theirs it uses.
 *
 * koa-session keeps two fields of its own in what it hands the store: `_maxAge` (the
 * session's cookie lifetime, or `_session` for a browser-session cookie) and `_expire` (when
 * the cookie expires, by the app server's clock). `_maxAge` is stored; `_expire` never is:
 * the row's expiry, by the database's clock, is the one that counts, and a session read back
 * gets `_expire` from it. So a session nobody changed is stored exactly as it was read, and
 * the short circuit holds.
 */
import type { SessionPgsqlOptions } from '../options/options.js';
import type { LoadedSession } from '../store/session-reader.js';
import type { SessionState } from '../store/session-state.js';
import { SessionPgsql } from '../store/store.js';
import { metadataHelpers } from './metadata-helpers.js';
import { clientAddress, lifetimeSecondsUntil, noSession, sessionObject } from './request-state.js';

/** A session as stored: its fields and koa-session's `_maxAge` (or `_session`), never `_expire`. */
type StoredSession = Record<string, unknown>;

/** What the store reads of Koa's `ctx`: `ctx.ip` honours `app.proxy`. */
interface StoreContext {
  readonly ip?: string | undefined;
  readonly socket?: { readonly remoteAddress?: string | undefined } | undefined;
}

/** What the metadata helpers read of Koa's `ctx`: koa-session's `session` and `sessionOptions`. */
export interface KoaContextLike {
  readonly ip?: string | undefined;
  readonly session?: object | null | undefined;
  readonly sessionOptions?: { readonly store?: unknown } | undefined;
}

/** What koa-session passes to `get` and `set` besides the session. */
export interface KoaStoreOptions {
  /** The request's context. */
  readonly ctx?: unknown;
  readonly rolling?: boolean | undefined;
  /** `set` only: false when koa-session saves an unchanged session (rolling, renew, forced). */
  readonly changed?: boolean | undefined;
}

/** What the store knows of one Koa context's session. */
interface ContextSession {
  /** What this request read (or will write) of the session it has now. */
  readonly state: SessionState;
  /** The session was destroyed in this request (`regenerate()` does that first). */
  destroyed: boolean;
  /**
   * Keys this request's session had before `regenerate()`: koa-session's session object
   * keeps answering the first one as its `externalKey`, so the helpers look it up here.
   */
  readonly formerKeys: readonly string[];
}

/** Keyed by the Koa context that koa-session passes to every call of the store. */
const contexts = new WeakMap<object, ContextSession>();

/**
 * A koa-session store keeping sessions in PostgreSQL (koa-session's `store` option). Pass
 * the options of {@link SessionPgsql}, or a `SessionPgsql` you built to share it with other
 * adapters.
 */
export class PgsqlStore {
  readonly core: SessionPgsql<StoredSession>;

  constructor(options: SessionPgsqlOptions<StoredSession> | SessionPgsql<StoredSession> = {}) {
    this.core =
      options instanceof SessionPgsql ? options : new SessionPgsql<StoredSession>(options);
  }

  /**
   * The session of a key, or `undefined` for none (missing, expired, malformed key): then
   * koa-session starts a new session under a key of its own. A database failure rejects,
   * which koa-session hands to Koa: an error response, never a new empty session.
   */
  async get(
    key: string,
    _maxAge?: number | string,
    options: KoaStoreOptions = {},
  ): Promise<StoredSession | undefined> {
    const loaded = await this.core.read(key);
    if (!loaded) return undefined;
    const session = sessionOf(loaded);
    const ctx = options.ctx;
    if (isRecord(ctx)) contexts.set(ctx, { state: loaded.state, destroyed: false, formerKeys: [] });
    return session;
  }

  /**
   * Stores a session. A session saved unchanged (`changed: false`: koa-session's `rolling`,
   * `renew`, a forced save) whose stored form is what was read is only touched: with
   * `shortCircuit`, nothing is written while its stored expiry is fresh. Pending metadata
   * changes are written either way.
   */
  async set(
    key: string,
    session: Record<string, unknown>,
    maxAge?: number | string,
    options: KoaStoreOptions = {},
  ): Promise<void> {
    const stored = storedForm(session);
    const ctx = isRecord(options.ctx) ? options.ctx : undefined;
    const state = ctx === undefined ? undefined : stateFor(ctx, key, this.core);
    const writeOptions = {
      state,
      lifetimeSeconds: lifetimeOf(session, maxAge),
      address: addressOf(ctx),
    };
    // koa-session's `changed` is a hash of the session: the serialized text decides
    if (options.changed === false && this.#storedAsRead(stored, state)) {
      await this.core.touch(key, writeOptions);
    } else {
      await this.core.write(key, stored, writeOptions);
    }
  }

  /** True when `stored` serializes to what this request read (a serializer that throws: the write says so). */
  #storedAsRead(stored: StoredSession, state: SessionState | undefined): boolean {
    const raw = state?.snapshot?.raw;
    if (typeof raw !== 'string') return false;
    try {
      return this.core.options.serializer.stringify(stored) === raw;
    } catch {
      return false;
    }
  }

  /** Deletes a session (koa-session's `ctx.session = null`, and the old key of `regenerate()`). */
  async destroy(key: string, options: KoaStoreOptions = {}): Promise<void> {
    await this.core.destroy(key);
    const known = isRecord(options.ctx) ? contexts.get(options.ctx) : undefined;
    if (known?.state.id === key) known.destroyed = true;
  }

  /** Stops background work and closes the connections the store opened. */
  close(): Promise<void> {
    return this.core.close();
  }
}

/**
 * The session koa-session gets for a row: its data, with `_expire` taken from the row's
 * expiry (by the database's clock). An expired session kept by keepExpired starts empty
 * under the same key, with the lifetime it had.
 */
function sessionOf(loaded: LoadedSession<StoredSession>): StoredSession {
  if (loaded.data === undefined) return lifetimeSettings(loaded.expiredData);
  const session = { ...sessionObject(loaded.data, 'koa-session') };
  delete session._expire;
  const remaining = loaded.state.remainingMillis();
  if (remaining !== undefined && remaining > 0 && session._session !== true) {
    session._expire = Date.now() + remaining;
  }
  return session;
}

/** koa-session's lifetime fields of an expired session, if it had them. */
function lifetimeSettings(expired: unknown): StoredSession {
  if (!isRecord(expired)) return {};
  const settings: StoredSession = {};
  if (expired._maxAge !== undefined) settings._maxAge = expired._maxAge;
  if (expired._session !== undefined) settings._session = expired._session;
  return settings;
}

/** A session as stored: what koa-session hands over, without `_expire` (the row holds it). */
function storedForm(session: Record<string, unknown>): StoredSession {
  const { _expire: _ignored, ...stored } = sessionObject(session, 'koa-session');
  return stored;
}

/**
 * Seconds the row lives: until the cookie's expiry (`_expire`, from koa-session's `maxAge`);
 * a browser-session cookie (`maxAge: 'session'`) lasts `ttl`.
 */
function lifetimeOf(session: Record<string, unknown>, maxAge: unknown): number | undefined {
  if (typeof session._expire === 'number') return lifetimeSecondsUntil(new Date(session._expire));
  return session._session !== true && typeof maxAge === 'number' ? maxAge / 1000 : undefined;
}

/** The client's address: `ctx.ip` (which believes X-Forwarded-For only with `app.proxy`). */
function addressOf(ctx: object | undefined): string | undefined {
  const source = ctx as StoreContext | undefined;
  return clientAddress({ ip: source?.ip || undefined, socket: source?.socket });
}

/**
 * The state of this context's session of `key`, for a save: what was read, or a new one (a
 * new session, or the new key of a regenerated one, which remembers the keys it replaced).
 */
function stateFor(ctx: object, key: string, core: SessionPgsql<StoredSession>): SessionState {
  const known = contexts.get(ctx);
  if (known?.state.id === key) return known.state;
  const formerKeys = known?.destroyed ? [...known.formerKeys, known.state.id] : [];
  const state = core.newState(key);
  contexts.set(ctx, { state, destroyed: false, formerKeys });
  return state;
}

/** The state of the session a metadata helper is called for, by the key koa-session's session object gives. */
function helperState(ctx: object, key: string, core: SessionPgsql<StoredSession>): SessionState {
  const known = contexts.get(ctx);
  if (known?.formerKeys.includes(key)) return known.state;
  return stateFor(ctx, key, core);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** koa-session's `Session` as the helpers read it: its key (`externalKey`). */
interface KoaSession {
  readonly externalKey?: unknown;
  _requireSave?: boolean;
}

function sessionOfContext(ctx: KoaContextLike): { session: KoaSession; state: SessionState } {
  const store = ctx.sessionOptions?.store;
  const session = store instanceof PgsqlStore ? (ctx.session as KoaSession | null) : undefined;
  const key = session?.externalKey;
  if (!(store instanceof PgsqlStore) || !session || typeof key !== 'string') {
    throw noSession(
      'is koa-session installed with store: new PgsqlStore(...) before this middleware, and ctx.session not set to null?',
    );
  }
  return { session, state: helperState(ctx, key, store.core) };
}

const reading = metadataHelpers((ctx: KoaContextLike) => sessionOfContext(ctx).state);
/**
 * A metadata change marks the session for koa-session's save (its `_requireSave` flag, as
 * setting `session.maxAge` does): koa-session saves only sessions it sees changed, and a
 * metadata change alone does not change the session's data.
 */
const changing = metadataHelpers((ctx: KoaContextLike) => {
  const { session, state } = sessionOfContext(ctx);
  session._requireSave = true;
  return state;
});

export const { sessionInfo, getField, getError } = reading;
export const { setField, addError } = changing;

export { ErrorCodes, SessionPgsqlError } from '../errors.js';
export type { SessionPgsqlOptions } from '../options/options.js';
export type { ErrorCounters, ErrorLevel, SessionInfo } from '../store/session-state.js';
