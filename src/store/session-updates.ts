import type { OperationNote } from './operation-events.js';
import type { SessionCodec } from './session-codec.js';
import type { SessionState } from './session-state.js';
import type { SessionWriter } from './session-writer.js';
import type { WriteOptions } from './store-types.js';

/** Longest lifetime a write accepts, in seconds (1000 years): a longer cookie is capped. */
export const MAX_LIFETIME_SECONDS = 1000 * 365 * 86_400;

export interface UpdateSettings {
  readonly ttlSeconds: number;
  readonly shortCircuit: boolean;
  readonly touchAfterFraction: number;
}

/**
 * The store's writes and touches, behind the short circuit: a write of unchanged data, or
 * a touch while the stored expiry is fresh, costs no statement and resolves `false`.
 */
export class SessionUpdates<Data> {
  readonly #writer: SessionWriter<Data>;
  readonly #codec: SessionCodec<Data>;
  readonly #settings: UpdateSettings;

  constructor(writer: SessionWriter<Data>, codec: SessionCodec<Data>, settings: UpdateSettings) {
    [this.#writer, this.#codec, this.#settings] = [writer, codec, settings];
  }

  async write(
    id: string,
    key: string,
    data: Data,
    options: WriteOptions,
    note: OperationNote | undefined,
  ): Promise<boolean> {
    const raw = this.#codec.stringify(data);
    const { state, address } = options;
    const lifetimeSeconds = this.#lifetime(options.lifetimeSeconds);
    if (this.#canSkip(state, lifetimeSeconds) && raw === state?.snapshot?.raw)
      return skipped(note, state);
    await this.#writer.write({ id, key, raw, data, lifetimeSeconds, address, state, note });
    return true;
  }

  /** Pending metadata changes turn a touch into a full write of what was read. */
  async touch(
    id: string,
    key: string,
    options: WriteOptions,
    note: OperationNote | undefined,
  ): Promise<boolean> {
    const { state, address } = options;
    const lifetimeSeconds = this.#lifetime(options.lifetimeSeconds);
    const raw = state?.snapshot?.raw;
    if (state?.dirty && typeof raw === 'string') {
      const data = undefined;
      await this.#writer.write({ id, key, raw, data, lifetimeSeconds, address, state, note });
      return true;
    }
    if (this.#canSkip(state, lifetimeSeconds)) return skipped(note, state);
    const { shortCircuit, touchAfterFraction } = this.#settings;
    const skipSeconds = shortCircuit ? Math.floor(lifetimeSeconds * touchAfterFraction) : 0;
    return this.#writer.touch({ key, lifetimeSeconds, skipSeconds, address, state, note });
  }

  #lifetime(seconds: number | undefined): number {
    if (seconds === undefined || !Number.isFinite(seconds)) return this.#settings.ttlSeconds;
    return Math.min(MAX_LIFETIME_SECONDS, Math.max(1, Math.ceil(seconds)));
  }

  /** Nothing changed and the stored expiry is still within the window. */
  #canSkip(state: SessionState | undefined, lifetime: number): boolean {
    const snapshot = state?.snapshot;
    const { shortCircuit, touchAfterFraction } = this.#settings;
    if (!shortCircuit || !state || !snapshot || snapshot.expired || state.dirty) return false;
    const dbNow = snapshot.dbNowSeconds + (performance.now() - snapshot.readAtMillis) / 1000;
    return snapshot.expireSeconds >= dbNow + lifetime - lifetime * touchAfterFraction;
  }
}

/** A write or touch the short circuit answered: noted for its event, resolves `false`. */
function skipped(note: OperationNote | undefined, state: SessionState | undefined): false {
  if (note) {
    note.skipped = true;
    note.server = state?.server.index;
  }
  return false;
}
