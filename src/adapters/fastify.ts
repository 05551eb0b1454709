/**
 * `session-pgsql/fastify`: a store for @fastify/session (v11, Fastify 5) on the framework-free
 * core, and session_pgsql's metadata helpers taking Fastify's `request`. It imports neither
 * Fastify nor @fastify/session: it declares the few shapes of theirs it uses.
 */
import type { SessionPgsqlOptions } from '../options/options.js';
import type { LoadedSession } from '../store/session-reader.js';
import type { SessionState } from '../store/session-state.js';
import { SessionPgsql } from '../store/store.js';
import { metadataHelpers } from './metadata-helpers.js';
import {
  type AddressSource,
  clientAddress,
  expiryOf,
  lifetimeSecondsUntil,
  noSession,
  readForCallback,
  sessionObject,
} from './request-state.js';

type Callback = (error?: unknown) => void;

/** A session as stored: its fields, and @fastify/session's cookie without its expiry (the row has it). */
type StoredSession = Record<string, unknown>;

/** The cookie of a @fastify/session session (its `Cookie`), as much of it as the store reads. */
interface FastifyCookie {
  readonly expires?: Date | string | null | undefined;
  readonly originalMaxAge?: number | null | undefined;
  toJSON?(): Record<string, unknown>;
}

/** A session as @fastify/session hands it to the store (its `Session`), as much of it as the store reads. */
interface FastifySession {
  readonly sessionId?: unknown;
  readonly cookie?: FastifyCookie | undefined;
}

/** What the metadata helpers read of Fastify's `request`: the `session` and `sessionStore` of @fastify/session. */
export interface FastifyRequestLike {
  readonly session?: object | null | undefined;
  readonly sessionStore?: unknown;
}

/**
 * The field of the session object that carries what this request read. @fastify/session
 * builds its session object by copying every field of what `get` returned, so this is how
 * the `SessionState` of `core.read` reaches `core.write` (the short circuit, the merge of
 * concurrent changes, the metadata). It is never stored.
 */
const STATE_FIELD = '__sessionPgsql';

/**
 * The value of {@link STATE_FIELD}. In JSON (and so in @fastify/session's change detection,
 * a hash of the session's JSON) it is absent, except while metadata changes (`setField`,
 * `addError`) are pending: the session is then modified, and saved even with `rolling: false`.
 */
class StateCarrier {
  readonly #state: SessionState;

  constructor(state: SessionState) {
    this.#state = state;
  }

  get state(): SessionState {
    return this.#state;
  }

  toJSON(): string | undefined {
    return this.#state.dirty ? 'metadata changes pending' : undefined;
  }
}

/**
 * A @fastify/session store keeping sessions in PostgreSQL. Pass the options of
 * {@link SessionPgsql}, or a `SessionPgsql` you built to share it with other adapters.
 */
export class PgsqlStore {
  readonly core: SessionPgsql<StoredSession>;

  constructor(options: SessionPgsqlOptions<StoredSession> | SessionPgsql<StoredSession> = {}) {
    this.core =
      options instanceof SessionPgsql ? options : new SessionPgsql<StoredSession>(options);
  }

  /**
   * The session of an id, or `null` for none (missing, expired, malformed id). A database
   * failure is an error, which @fastify/session hands to Fastify: an error response, never
   * a new empty session. `Session` is the type your application declares for its sessions
   * (@fastify/session's `Session` interface).
   */
  get<Session extends object = StoredSession>(
    sessionId: string,
    callback: (error: unknown, session?: Session | null) => void,
  ): void {
    readForCallback(this.core.read(sessionId), (loaded) => sessionOf(loaded) as Session, callback);
  }

  /**
   * Stores a session. With `shortCircuit`, a session that did not change (same data, no
   * metadata change) is not written while its stored expiry is fresh, also when
   * @fastify/session saves every request (`rolling: true`, its default).
   */
  set(sessionId: string, session: object, callback: Callback): void {
    let stored: StoredSession;
    let state: SessionState;
    try {
      stored = storedForm(session);
      state = carriedState(session, sessionId, this.core);
    } catch (error) {
      callback(error);
      return;
    }
    this.core
      .write(sessionId, stored, {
        state,
        lifetimeSeconds: lifetimeSecondsUntil((session as FastifySession).cookie?.expires),
        address: clientAddress(requestOf(session, this)),
      })
      .then(
        () => callback(),
        (error: unknown) => callback(error),
      );
  }

  destroy(sessionId: string, callback: Callback): void {
    this.core.destroy(sessionId).then(
      () => callback(),
      (error: unknown) => callback(error),
    );
  }

  /** Stops background work and closes the connections the store opened. */
  close(): Promise<void> {
    return this.core.close();
  }
}

/**
 * The session @fastify/session gets for a row: its data, with the cookie's expiry taken from
 * the row (only that one is stored, by the database's clock), and what this request read.
 * An expired session kept by keepExpired starts empty, with the cookie settings it had.
 */
function sessionOf(loaded: LoadedSession<StoredSession>): StoredSession {
  const data =
    loaded.data === undefined
      ? keptCookie(loaded.expiredData)
      : sessionObject(loaded.data, '@fastify/session');
  const cookie = data.cookie;
  if (isRecord(cookie) && typeof cookie.originalMaxAge === 'number') {
    const expires = expiryOf(loaded.state);
    if (expires !== undefined) cookie.expires = expires;
  }
  data[STATE_FIELD] = new StateCarrier(loaded.state);
  return data;
}

/** An expired session's cookie settings, without an expiry (@fastify/session would regenerate it). */
function keptCookie(expired: unknown): StoredSession {
  const cookie = isRecord(expired) ? expired.cookie : undefined;
  if (!isRecord(cookie)) return {};
  const { expires: _expires, ...settings } = cookie;
  return { cookie: settings };
}

/**
 * A session as stored: its own fields, the cookie first and without what changes on every
 * request (a relative expiry, which the row holds, and `originalExpires`, which is read
 * from it), so that a session nobody changed serializes exactly as it was read.
 */
function storedForm(session: object): StoredSession {
  const fields = session as Record<string, unknown>;
  const cookie = storedCookie(fields.cookie);
  const stored: StoredSession = cookie === undefined ? {} : { cookie };
  for (const key of Object.keys(fields)) {
    if (key !== 'cookie' && key !== STATE_FIELD) stored[key] = fields[key];
  }
  return stored;
}

function storedCookie(cookie: unknown): Record<string, unknown> | undefined {
  if (!isRecord(cookie)) return undefined;
  const toJSON = (cookie as FastifyCookie).toJSON;
  const json = typeof toJSON === 'function' ? toJSON.call(cookie) : { ...cookie };
  const { originalExpires: _originalExpires, expires, ...settings } = json;
  // an absolute expiry (no maxAge) is a setting of its own: kept
  return typeof settings.originalMaxAge === 'number' || expires == null
    ? settings
    : { expires, ...settings };
}

/** The state this session object carries: what its request read, or a new one (a new session). */
function carriedState(
  session: object,
  sessionId: string,
  core: SessionPgsql<StoredSession>,
): SessionState {
  const fields = session as Record<string, unknown>;
  const carrier = fields[STATE_FIELD];
  if (carrier instanceof StateCarrier && carrier.state.id === sessionId) return carrier.state;
  const state = core.newState(sessionId);
  fields[STATE_FIELD] = new StateCarrier(state);
  return state;
}

/**
 * The Fastify request a session belongs to, for the client address. @fastify/session hands
 * the store the session object alone, which keeps its request in a field of its own (a
 * symbol): it is found as the value whose `sessionStore` is this store, whatever the field's
 * name. `undefined` if there is none (the address is then not recorded).
 */
function requestOf(session: object, store: PgsqlStore): AddressSource | undefined {
  for (const key of Object.getOwnPropertySymbols(session)) {
    const value: unknown = Reflect.get(session, key);
    if (isRecord(value) && 'ip' in value && value.sessionStore === store) {
      return value as AddressSource;
    }
  }
  return undefined;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function stateOf(request: FastifyRequestLike): SessionState {
  const { session, sessionStore } = request;
  const id = isRecord(session) ? session.sessionId : undefined;
  if (!(sessionStore instanceof PgsqlStore) || !session || typeof id !== 'string') {
    throw noSession(
      'is @fastify/session registered with store: new PgsqlStore(...), and is this route under its cookie path?',
    );
  }
  return carriedState(session, id, sessionStore.core);
}

export const { sessionInfo, getField, setField, addError, getError } = metadataHelpers(stateOf);

export { ErrorCodes, SessionPgsqlError } from '../errors.js';
export type { SessionPgsqlOptions } from '../options/options.js';
export type { ErrorCounters, ErrorLevel, SessionInfo } from '../store/session-state.js';
