import { createHash } from 'node:crypto';
import type { MetadataRow } from '../sql/rows.js';

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

/** How notifications name a session whose stored key is its id: the id's SHA-256. */
export const notifiedKey = (key: string): string =>
  createHash('sha256').update(key).digest('base64');

/**
 * A cache entry dated from when its statement was sent, not when its answer came: our
 * estimate of the database's clock is then less than a second behind it (the clock is read
 * in whole seconds, rounded down), never more, so the cache stops serving a session
 * (estimate >= sess_expire) no later than the database does (clock >= sess_expire + 1).
 */
export function cachedRow(
  raw: string,
  row: MetadataRow,
  clock: { readonly expireSeconds: number; readonly dbNowSeconds: number },
  sentAtMillis: number,
): CachedRow {
  return {
    raw,
    row,
    expireSeconds: clock.expireSeconds,
    dbNowSeconds: clock.dbNowSeconds,
    readAtMillis: sentAtMillis,
  };
}

/**
 * Recently read sessions of one server, least recently used dropped first. It serves
 * reads only while `enabled`: that is, while the invalidation listener is connected.
 *
 * `epoch` counts invalidations. An operation takes it when it starts and hands it back
 * with what it read: if that key was invalidated since (or everything was flushed), the
 * value may be stale and is not kept. Invalidations are remembered per key, so that one
 * session changing does not stop others from being cached; the memory of them is bounded
 * (past the bound, operations older than the forgotten invalidation are refused).
 */
export class SessionCache {
  readonly #maxEntries: number;
  readonly #maxInvalidations: number;
  /** How notifications name a key: itself when keys are digests, else its SHA-256. */
  readonly #notifiedKey: (key: string) => string;
  readonly #entries = new Map<string, CachedRow>();
  /** Key -> epoch of its last invalidation, oldest first. */
  readonly #invalidated = new Map<string, number>();
  #epoch = 0;
  /** Operations that started before this epoch may have missed an invalidation. */
  #floor = 0;
  enabled = false;

  constructor(maxEntries: number, keysAreDigests: boolean) {
    this.#maxEntries = maxEntries;
    this.#notifiedKey = keysAreDigests ? (key) => key : notifiedKey;
    this.#maxInvalidations = Math.max(1000, maxEntries);
  }

  get epoch(): number {
    return this.#epoch;
  }

  get size(): number {
    return this.#entries.size;
  }

  has(key: string): boolean {
    return this.enabled && this.#entries.has(this.#notifiedKey(key));
  }

  get(key: string): CachedRow | undefined {
    if (!this.enabled) return undefined;
    const k = this.#notifiedKey(key);
    const entry = this.#entries.get(k);
    if (entry) {
      this.#entries.delete(k);
      this.#entries.set(k, entry);
    }
    return entry;
  }

  /**
   * Stores an entry read when the epoch was `epoch`. If the key was invalidated since,
   * the entry may be stale: the key is dropped instead.
   */
  set(key: string, entry: CachedRow, epoch: number): void {
    const k = this.#notifiedKey(key);
    this.#entries.delete(k);
    if (this.enabled && this.#unchangedSince(k, epoch)) this.#put(k, entry);
  }

  /**
   * Stores what this process has just written (the operation started at `epoch`). Reads
   * of the key still in flight may hold the old value: they may no longer store it.
   */
  written(key: string, entry: CachedRow, epoch: number): void {
    const k = this.#notifiedKey(key);
    const fresh = this.#unchangedSince(k, epoch);
    this.invalidateNotified(k);
    if (this.enabled && fresh) this.#put(k, entry);
  }

  /** Records a new expiry after a touch. */
  extend(key: string, expireSeconds: number): void {
    const k = this.#notifiedKey(key);
    const entry = this.#entries.get(k);
    if (entry) this.#entries.set(k, { ...entry, expireSeconds });
  }

  /**
   * Forgets one session that changed or was destroyed (here or in another process), and
   * refuses what reads already in flight for it bring back.
   */
  invalidate(key: string): void {
    this.invalidateNotified(this.#notifiedKey(key));
  }

  /** `invalidate`, for a key as notifications name it (another process changed it). */
  invalidateNotified(key: string): void {
    this.#epoch += 1;
    this.#entries.delete(key);
    this.#invalidated.delete(key);
    this.#invalidated.set(key, this.#epoch);
    if (this.#invalidated.size > this.#maxInvalidations) {
      const [oldest, epoch] = this.#invalidated.entries().next().value ?? ['', 0];
      this.#invalidated.delete(oldest);
      this.#floor = Math.max(this.#floor, epoch);
    }
  }

  /** Forgets everything: on (re)connection of the listener, or a `clear()` anywhere. */
  flush(): void {
    this.#epoch += 1;
    this.#floor = this.#epoch;
    this.#invalidated.clear();
    this.#entries.clear();
  }

  #unchangedSince(key: string, epoch: number): boolean {
    return epoch >= this.#floor && (this.#invalidated.get(key) ?? 0) <= epoch;
  }

  #put(key: string, entry: CachedRow): void {
    this.#entries.set(key, entry);
    if (this.#entries.size > this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
  }
}
