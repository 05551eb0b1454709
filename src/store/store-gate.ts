import { ErrorCodes, SessionPgsqlError } from '../errors.js';
import type { DbOption } from '../options/db-option.js';
import { EmbeddedGuard } from './embedded-guard.js';
import type { SessionIds } from './session-ids.js';

/**
 * What every store call passes first: the store must be open; the first call starts the
 * background work (`onAccess`); a session id must match `idPattern` and becomes its stored
 * key; an operator call on an embedded database needs one that exists.
 */
export class StoreGate {
  readonly #ids: SessionIds;
  readonly #embedded: EmbeddedGuard;
  readonly #onAccess: () => void;
  #closed = false;

  constructor(ids: SessionIds, db: DbOption, onAccess: () => void) {
    [this.#ids, this.#embedded, this.#onAccess] = [ids, new EmbeddedGuard(db), onAccess];
  }

  /** Closes the gate; false if it was closed already. */
  close(): boolean {
    const wasOpen = !this.#closed;
    this.#closed = true;
    return wasOpen;
  }

  /** Session traffic by id: its stored key, or `undefined` for an id that names no session. */
  session(id: string): string | undefined {
    this.#open();
    this.#embedded.trafficStarted();
    return this.#ids.key(id);
  }

  /** Session traffic that stores under `id`: a malformed id is an error (SPG_INVALID_SESSION_ID). */
  sessionToStore(id: string): string {
    const key = this.session(id);
    if (key !== undefined) return key;
    throw new SessionPgsqlError(
      ErrorCodes.INVALID_SESSION_ID,
      'invalid session id: it does not match idPattern',
    );
  }

  /** A call over every session (all, status, reset): the store must be open. */
  fleet(): void {
    this.#open();
  }

  /** An operator call; with `id`, its stored key (`undefined`: a malformed id). */
  operator(call: string, id?: string): string | undefined {
    this.#open(call);
    return id === undefined ? undefined : this.#ids.key(id);
  }

  #open(operatorCall?: string): void {
    if (this.#closed) throw new SessionPgsqlError(ErrorCodes.CLOSED, 'the session store is closed');
    this.#embedded.accessed();
    if (operatorCall !== undefined) this.#embedded.check(operatorCall); // before any background work
    this.#onAccess();
  }
}
