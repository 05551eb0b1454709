/**
 * The session a Hono handler gets from `c.get('session')`: its fields (get, set, delete),
 * and regenerate and destroy. What the middleware needs to store it at the end of the
 * request is in its {@link SessionHandle}, which the middleware keeps beside it.
 */
import type { SessionState } from '../store/session-state.js';
import type { SessionPgsql } from '../store/store.js';
import type { StoredSession } from './hono-options.js';
import { noSession } from './request-state.js';

/** The shape of a session's fields: declare yours (`sessionMiddleware<{ views: number }>`). */
export type SessionData = Record<string, unknown>;

/** One request's session, as the middleware reads, changes and stores it. */
export interface SessionHandle {
  id: string;
  data: StoredSession;
  /** What `core.read` returned (or a new state): passed back to `write` and `touch`. */
  state: SessionState;
  /** The row held this session's data when it was read (a new or expired one did not). */
  stored: boolean;
  /** `regenerate()` was called: the new session is stored whatever it holds. */
  regenerated: boolean;
  /** `destroy()` was called: the cookie is cleared, nothing is stored. */
  destroyed: boolean;
}

/** The session of one request (`c.get('session')`). */
export class Session<Data extends SessionData = SessionData> {
  readonly #handle: SessionHandle;
  readonly #core: SessionPgsql<StoredSession>;

  /** @internal The middleware makes sessions. */
  constructor(handle: SessionHandle, core: SessionPgsql<StoredSession>) {
    this.#handle = handle;
    this.#core = core;
  }

  /** The session id (what the cookie carries, signed). Keep it out of logs. */
  get id(): string {
    return this.#handle.id;
  }

  /** True for a session this request started (no stored session was found for its cookie). */
  get isNew(): boolean {
    return !this.#handle.stored;
  }

  /** A field's value; `undefined` when it is not set. */
  get<Key extends keyof Data & string>(key: Key): Data[Key] | undefined {
    const data = this.#live().data;
    return Object.hasOwn(data, key) ? (data[key] as Data[Key]) : undefined;
  }

  /** Sets a field; it is stored when the response is ready, before it is sent. */
  set<Key extends keyof Data & string>(key: Key, value: Data[Key]): void {
    // an own field, also for `__proto__`
    Object.defineProperty(this.#live().data, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }

  /** Removes a field. */
  delete(key: keyof Data & string): void {
    delete this.#live().data[key];
  }

  /** The session's fields (a copy): what `c.json(session)` shows. */
  toJSON(): Partial<Data> {
    return { ...this.#live().data } as Partial<Data>;
  }

  /**
   * A new session id, against session fixation (after a login): the stored session is
   * deleted now, and the new one is stored at the end of the request, with the fields
   * kept when `keepData` is true (by default it starts empty). Metadata changes not yet
   * stored (`setField`, `addError`) stay with the old session.
   */
  async regenerate(options: { readonly keepData?: boolean } = {}): Promise<void> {
    const handle = this.#live();
    if (handle.state.snapshot !== undefined) await this.#core.destroy(handle.id);
    const id = this.#core.generateId();
    handle.id = id;
    handle.state = this.#core.newState(id);
    handle.stored = false;
    handle.regenerated = true;
    if (options.keepData !== true) handle.data = {};
  }

  /** Deletes the session now; the response clears its cookie. The session cannot be used after it. */
  async destroy(): Promise<void> {
    const handle = this.#live();
    if (handle.state.snapshot !== undefined) await this.#core.destroy(handle.id);
    handle.destroyed = true;
    handle.data = {};
  }

  #live(): SessionHandle {
    if (this.#handle.destroyed) throw noSession('the session was destroyed in this request');
    return this.#handle;
  }
}
