import { cachedRow } from '../cache/session-cache.js';
import { ErrorCodes, SessionPgsqlError } from '../errors.js';
import { isTombstone } from '../routing/move-home.js';
import type { Route } from '../routing/server-router.js';
import type { SessionRouting } from '../routing/session-routing.js';
import { endOfTurn } from '../server/batcher.js';
import type { Server } from '../server/server.js';
import type { SessionRow } from '../sql/rows.js';
import type { OperationNote } from './operation-events.js';
import type { SessionCodec } from './session-codec.js';
import { SessionState, snapshotOf } from './session-state.js';

export interface LoadedSession<Data> {
  /** The session's data; `undefined` when the row had expired and `keepExpired` kept its metadata. */
  readonly data: Data | undefined;
  /** Metadata and pending changes for this request; pass it back to `write` and `touch`. */
  readonly state: SessionState;
  /**
   * With `keepExpired`, what the expired session held. Not the session's data: adapters
   * take their framework's bookkeeping from it (express-session's cookie settings).
   */
  readonly expiredData?: Data;
}

/**
 * A row read on a failover target, where a server before it in the session's order is
 * down: no row there says nothing of the session, which may well live on the server that
 * is down. That is SPG_DB_UNREACHABLE, never "absent": a framework would hand the visitor a
 * new session, a logout would destroy that one, and the old session, logged in, would be
 * back with its server. (A session created or destroyed during the outage has a row there.)
 */
function foundOrUnreachable(row: SessionRow | undefined, route: Route): SessionRow | undefined {
  if (row !== undefined || !route.failedOver) return row;
  const home = route.order.find((server) => !server.available) ?? route.home;
  throw new SessionPgsqlError(
    ErrorCodes.DB_UNREACHABLE,
    `the session may live on server #${home.index} (${home.connection}), which cannot be reached; it is not on the next server in its order`,
  );
}

/** Reads sessions: from the cache when it has them, else from their server (batched). */
export class SessionReader<Data> {
  readonly #routing: SessionRouting;
  readonly #codec: SessionCodec<Data>;
  /** Expired rows come back with their metadata (and no data) instead of as absent. */
  readonly #keepExpired: boolean;
  /** Told, for each read on a server with a cache, whether the cache answered it. */
  readonly #onCacheLookup: (hit: boolean) => void;

  constructor(settings: {
    routing: SessionRouting;
    codec: SessionCodec<Data>;
    keepExpired: boolean;
    onCacheLookup: (hit: boolean) => void;
  }) {
    ({
      routing: this.#routing,
      codec: this.#codec,
      keepExpired: this.#keepExpired,
      onCacheLookup: this.#onCacheLookup,
    } = settings);
  }

  read(id: string, key: string, note?: OperationNote): Promise<LoadedSession<Data> | undefined> {
    return this.#routing.run(key, async (route) => {
      const server = route.target;
      if (note) note.server = server.index;
      if (route.others.length > 0) {
        const row = await this.#routing.failover.reconcile(key, route);
        return this.#loaded(id, server, foundOrUnreachable(row, route));
      }
      const cache = server.cache;
      // A cache hit answers where batched reads do: at the end of this turn of the event loop.
      if (cache?.has(key)) await endOfTurn();
      const cached = cache?.get(key);
      if (cached) {
        const { raw, row, ...times } = cached;
        const snapshot = { raw, md5: row.sess_md5, expired: false, ...times };
        const state = new SessionState(id, server, row, snapshot);
        if ((state.remainingMillis() ?? 0) > 0) {
          this.#onCacheLookup(true);
          return { data: this.#codec.parse(raw), state };
        }
      }
      if (cache) this.#onCacheLookup(false);
      const epoch = cache?.epoch ?? 0;
      const sentAt = performance.now();
      const row = foundOrUnreachable(await server.batches.read(key), route);
      const loaded = this.#loaded(id, server, row);
      const snapshot = loaded?.state.snapshot;
      if (cache && row && snapshot?.raw != null && !snapshot.expired)
        cache.set(key, cachedRow(snapshot.raw, row, snapshot, sentAt), epoch);
      return loaded;
    });
  }

  #loaded(
    id: string,
    server: Server,
    row: SessionRow | undefined,
  ): LoadedSession<Data> | undefined {
    if (!row || isTombstone(row) || (row.expired && !this.#keepExpired)) return undefined;
    const raw = row.sess_data;
    const snapshot = snapshotOf(row.expired ? null : raw, row, row.now, row.expired);
    const state = new SessionState(id, server, row, snapshot);
    if (raw === null) return { data: undefined, state };
    return row.expired
      ? { data: undefined, state, expiredData: this.#codec.parse(raw) }
      : { data: this.#codec.parse(raw), state };
  }
}
