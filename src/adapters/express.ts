import type { SessionData } from 'express-session';
import session from 'express-session';
import type { SessionPgsqlOptions } from '../options/options.js';
import type { SessionState } from '../store/session-state.js';
import { SessionPgsql } from '../store/store.js';
import {
  defaultCookie,
  isObject,
  type RequestLike,
  type StoredSession,
  sessionOf,
  sessions,
  withoutExpires,
  writeOptions,
} from './express-session-data.js';
import { metadataHelpers } from './metadata-helpers.js';
import { noSession, readForCallback } from './request-state.js';
import { committers, type GuardedRequest } from './save-before-response.js';

type Callback<T = void> = (error?: unknown, value?: T) => void;

/** Sessions saveBeforeResponse stored (or failed to store) in this request: express-session's save after it is a no-op. */
const committed = new WeakSet<object>();
const failedCommits = new WeakSet<object>();

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
    committers.set(this, (req) => this.#commit(req));
  }

  override get(
    sid: string,
    callback: (error: unknown, session?: SessionData | null) => void,
  ): void {
    readForCallback(
      this.core.read(sid),
      (loaded) => sessionOf(loaded) as unknown as SessionData,
      callback,
    );
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
    const known = sessions.get(data);
    const stored: StoredSession = {
      ...data,
      cookie: withoutExpires(data.cookie, known?.originalMaxAge),
    };
    if (this.#storedAlready(data, stored)) {
      callback?.();
      return;
    }
    // a new session: its state keeps what is written, for a later save in this request
    if (known?.state.id !== sid) sessions.set(data, { state: this.core.newState(sid) });
    this.core.write(sid, stored, writeOptions(sid, data)).then(
      () => callback?.(),
      (error: unknown) => callback?.(error),
    );
  }

  override touch(sid: string, data: SessionData, callback?: Callback): void {
    if (committed.has(data) || failedCommits.has(data)) {
      callback?.();
      return;
    }
    this.core.touch(sid, writeOptions(sid, data)).then(
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

  /**
   * saveBeforeResponse: stores the request's session now, when express-session would store
   * it at the end of the request: a session that was read (express-session then saves or
   * touches it), or a new one with data in it. A new session with nothing in it is left to
   * express-session (nothing is lost if storing it fails).
   */
  async #commit(req: GuardedRequest): Promise<void> {
    const session = req.session as (session.Session & SessionData) | null | undefined;
    if (!session || typeof req.sessionID !== 'string') return;
    const read = sessions.get(session)?.state.snapshot !== undefined;
    if (!read && !Object.keys(session).some((key) => key !== 'cookie')) return;
    session.touch(); // as express-session does before saving: the cookie's expiry from now
    try {
      // its save, so that express-session knows the session is saved
      await new Promise<void>((resolve, reject) =>
        session.save((error?: unknown) => (error ? reject(error) : resolve())),
      );
      committed.add(session);
    } catch (error) {
      failedCommits.add(session); // the error answer stores nothing either
      throw error;
    }
  }

  /** After saveBeforeResponse: true when `stored` is what it stored (or it failed: not again). */
  #storedAlready(data: object, stored: StoredSession): boolean {
    if (failedCommits.has(data)) return true;
    if (!committed.has(data)) return false;
    const state = sessions.get(data)?.state;
    return (
      state?.dirty === false &&
      state.snapshot?.raw === this.core.options.serializer.stringify(stored)
    );
  }
}

function stateOf(req: RequestLike): SessionState {
  const store = req.sessionStore;
  if (!req.session || !(store instanceof PgsqlStore) || typeof req.sessionID !== 'string') {
    throw noSession('is express-session installed before this route?');
  }
  let known = sessions.get(req.session);
  if (!known) {
    known = { state: store.core.newState(req.sessionID) };
    sessions.set(req.session, known);
  }
  return known.state;
}

export const { sessionInfo, getField, setField, addError, getError } = metadataHelpers(stateOf);

export { ErrorCodes, SessionPgsqlError } from '../errors.js';
export type { SessionPgsqlOptions } from '../options/options.js';
export type { ErrorCounters, ErrorLevel, SessionInfo } from '../store/session-state.js';
export { saveBeforeResponse } from './save-before-response.js';
