import type { MetadataRow } from '../session-state.js';

/** A row as read from the table, kept with the moment it was read. */
export interface CachedRow {
  readonly raw: string;
  readonly row: MetadataRow;
  /** Stored expiry, Unix seconds by the database's clock. */
  readonly expireSeconds: number;
  /** The database's clock when read, and our monotonic clock then. */
  readonly dbNowSeconds: number;
  readonly readAtMillis: number;
}

/**
 * Recently read sessions of one server, least recently used dropped first. It serves
 * reads only while `enabled`: that is, while the invalidation listener is connected.
 * `epoch` counts invalidations, so that a read that was in flight while another process
 * changed a session does not put the old value back.
 */
export class SessionCache {
  readonly #maxEntries: number;
  readonly #entries = new Map<string, CachedRow>();
  #epoch = 0;
  enabled = false;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  get epoch(): number {
    return this.#epoch;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): CachedRow | undefined {
    if (!this.enabled) return undefined;
    const entry = this.#entries.get(key);
    if (entry) {
      this.#entries.delete(key);
      this.#entries.set(key, entry);
    }
    return entry;
  }

  /**
   * Stores an entry read or written when the epoch was `epoch`. If anything was
   * invalidated since, the entry may be stale: the key is dropped instead.
   */
  set(key: string, entry: CachedRow, epoch: number): void {
    this.#entries.delete(key);
    if (!this.enabled || epoch !== this.#epoch) return;
    this.#entries.set(key, entry);
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }

  /** Records a new expiry after a touch. */
  extend(key: string, expireSeconds: number): void {
    const entry = this.#entries.get(key);
    if (entry) this.#entries.set(key, { ...entry, expireSeconds });
  }

  /** Forgets one session that this process changed or destroyed. */
  delete(key: string): void {
    this.#entries.delete(key);
  }

  /** Forgets one session that another process changed or destroyed. */
  invalidate(key: string): void {
    this.#epoch += 1;
    this.#entries.delete(key);
  }

  /** Forgets everything: on (re)connection of the listener, or a `clear()` anywhere. */
  flush(): void {
    this.#epoch += 1;
    this.#entries.clear();
  }
}
