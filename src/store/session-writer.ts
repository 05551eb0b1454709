import { cachedRow } from '../cache/session-cache.js';
import { isTombstone } from '../routing/move-home.js';
import type { SessionRouting } from '../routing/session-routing.js';
import type { MetadataRow } from '../sql/rows.js';
import type { WriteParam } from '../sql/statements.js';
import { mergeSessions } from './merge.js';
import type { OperationNote } from './operation-events.js';
import type { SessionCodec } from './session-codec.js';
import { SessionState, snapshotOf } from './session-state.js';

/**
 * Attempts at merging with concurrent writers before the last write simply wins. Each failed
 * attempt means another writer's write succeeded meanwhile, so N requests writing one session
 * at once need up to N attempts (5 lost keys with 20 concurrent writers).
 */
export const MAX_MERGE_ATTEMPTS = 100;

/** One write of a session, as the store was asked for it. */
export interface SessionWrite<Data> {
  readonly id: string;
  readonly key: string;
  /** The serialized data to store. */
  readonly raw: string;
  /** The data itself (to merge with a concurrent write); `undefined` for a metadata-only write. */
  readonly data: Data | undefined;
  readonly lifetimeSeconds: number;
  readonly address: string | undefined;
  readonly state: SessionState | undefined;
  /** Told which server the write went to (for the store's `'operation'` event). */
  readonly note?: OperationNote | undefined;
}

export interface SessionTouch {
  readonly key: string;
  readonly lifetimeSeconds: number;
  /** No write while the stored expiry is within this many seconds of the new one (0: always). */
  readonly skipSeconds: number;
  readonly address: string | undefined;
  readonly state: SessionState | undefined;
  readonly note?: OperationNote | undefined;
}

/**
 * Writes sessions without losing concurrent changes: a session this request read is
 * updated only if it still holds what was read (compare-and-set); when another request
 * changed it meanwhile, our changes are merged into theirs, key by key, and written again.
 */
export class SessionWriter<Data> {
  readonly #routing: SessionRouting;
  readonly #codec: SessionCodec<Data>;
  /** Stored in `sess_name`. */
  readonly #name: string;

  constructor(settings: { routing: SessionRouting; codec: SessionCodec<Data>; name: string }) {
    ({ routing: this.#routing, codec: this.#codec, name: this.#name } = settings);
  }

  write(w: SessionWrite<Data>): Promise<void> {
    return this.#routing.run(w.key, async (route) => {
      const { failover } = this.#routing;
      if (route.others.length > 0) await failover.reconcile(w.key, route);
      if (route.failedOver) await failover.mark(route);
      const server = route.target;
      if (w.note) w.note.server = server.index;
      const state = w.state ?? new SessionState(w.id, server);
      // What this request read, if it was read from the server written now.
      const snapshot = state.server.index === server.index ? state.snapshot : undefined;
      const base = snapshot?.expired === false ? snapshot.raw : null;
      // Insert (or upsert) a session that was not read; else update it if it still holds
      // `expected` (null: whatever it holds), never bringing back a destroyed session.
      let insert = base === null;
      let expected = base === null ? null : (snapshot?.md5 ?? null);
      let text = w.raw;
      for (let attempt = 1; ; attempt++) {
        const c = state.changes;
        this.#codec.checkSize(text, c.custom, c.message);
        const values: Record<WriteParam, unknown> = {
          key: w.key,
          name: this.#name,
          data: text,
          lifetime: w.lifetimeSeconds,
          address: w.address ?? null,
          error: c.error,
          warning: c.warning,
          notice: c.notice,
          message: c.message,
          customSet: c.customSet,
          custom: c.custom,
        };
        const epoch = server.cache?.epoch ?? 0;
        const sentAt = performance.now();
        const row: MetadataRow | undefined = insert
          ? (await server.run('write', values, 'write a session')).rows[0]
          : await server.batches.update({ ...values, key: w.key, expected });
        if (row) {
          const written = snapshotOf(text, row, row.sess_modified ?? 0, false);
          state.written(row, written);
          server.cache?.written(w.key, cachedRow(text, row, written, sentAt), epoch);
          return;
        }
        server.cache?.invalidate(w.key);
        // The row no longer holds what this request read. Destroyed meanwhile (a logout):
        // it stays destroyed. Changed by another request: merge our changes into theirs.
        const current = await server.batches.read(w.key);
        if (!current || isTombstone(current)) return;
        const theirs = current.sess_data;
        if (current.expired || theirs === null || base === null) {
          insert = true; // expired meanwhile: the write starts the session anew
          continue;
        }
        if (attempt >= MAX_MERGE_ATTEMPTS) {
          expected = null; // too much contention: the last write wins (but never revives)
          continue;
        }
        expected = current.sess_md5;
        if (w.data === undefined) {
          text = theirs; // a metadata-only write keeps the data the other request stored
          continue;
        }
        const codec = this.#codec;
        text = codec.stringify(
          mergeSessions(codec.parse(base), w.data, codec.parse(theirs)) as Data,
        );
      }
    });
  }

  /** Extends a session's expiry; false when nothing was written. */
  touch(t: SessionTouch): Promise<boolean> {
    return this.#routing.run(t.key, async (route) => {
      if (route.others.length > 0) await this.#routing.failover.reconcile(t.key, route);
      const server = route.target;
      if (t.note) t.note.server = server.index;
      const snapshot = t.state?.snapshot;
      // Our estimate of the database's clock before the statement runs (within a second).
      const dbNow = snapshot
        ? snapshot.dbNowSeconds + (performance.now() - snapshot.readAtMillis) / 1000
        : undefined;
      const touched = await server.batches.touch({
        key: t.key,
        lifetime: t.lifetimeSeconds,
        skip: t.skipSeconds,
        address: t.address ?? null,
      });
      if (touched && dbNow !== undefined) {
        // never later than stored
        server.cache?.extend(t.key, Math.floor(dbNow) - 1 + t.lifetimeSeconds);
      }
      return touched;
    });
  }

  /** Deletes a session on its target and every server that may hold a copy. */
  destroy(key: string, note?: OperationNote): Promise<void> {
    return this.#routing.run(key, async (route) => {
      const target = route.target;
      if (note) note.server = target.index;
      target.cache?.invalidate(key);
      if (route.failedOver) {
        await target.run('tombstone', { key }, 'record a destroyed session');
        await this.#routing.failover.mark(route);
      } else {
        await target.run('destroy', { key }, 'destroy a session');
      }
      // A read of ours that was in flight may have put the session back meanwhile.
      target.cache?.invalidate(key);
      for (const other of route.others) {
        await other.run('destroy', { key }, 'destroy a copy').catch(() => {});
      }
    });
  }
}
