import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { endOfTurn } from './batcher.js';
import type { CachedRow } from './cache/session-cache.js';
import { createServers } from './create-servers.js';
import { ErrorCodes, SessionPgsqlError } from './errors.js';
import { GarbageCollector, type GcResult } from './garbage-collector.js';
import { mergeSessions } from './merge.js';
import { type ResolvedOptions, resolveOptions, type SessionPgsqlOptions } from './options.js';
import { Failover, isTombstone, noServerError } from './routing/failover.js';
import type { Server, ServerStatus } from './server.js';
import { type Route, ServerRouter } from './server-router.js';
import { SessionCodec } from './session-codec.js';
import { SessionIds } from './session-id.js';
import { type MetadataRow, type SessionRow, SessionState, type Snapshot } from './session-state.js';

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

export interface WriteOptions {
  /** Seconds from now (by the database's clock) until the session expires. Default: the `ttl` option. */
  readonly lifetimeSeconds?: number | undefined;
  /** The client's address, stored as the creating or modifying address. */
  readonly address?: string | undefined;
  /** What `read` returned for this request: enables the short circuit and keeps concurrent changes. */
  readonly state?: SessionState | undefined;
}

export interface StoreStatus {
  readonly servers: readonly ServerStatus[];
  readonly serverCount: number;
  readonly failoverMode: boolean;
  readonly shortCircuit: boolean;
  readonly keepExpired: boolean;
  readonly gcIntervalSeconds: number;
  readonly embedded: boolean;
  readonly table: string;
}

/** A server going down or coming back. */
export interface HealthEvent {
  /** Position of the server in `db`. */
  readonly server: number;
  /** The connection, password hidden. */
  readonly connection: string;
  /** Why it was marked down (`failover` only). */
  readonly error?: unknown;
}

export interface SessionPgsqlEvents {
  gc: [GcResult];
  /** A server could not be reached: its sessions go to the next server in their order. */
  failover: [HealthEvent];
  /** A server that was down answers again. */
  recovery: [HealthEvent];
}

/**
 * Attempts at merging with concurrent writers before the last write simply wins. Each failed
 * attempt means another writer's write succeeded meanwhile, so N requests writing one session
 * at once need up to N attempts (5 lost keys with 20 concurrent writers).
 */
const MAX_MERGE_ATTEMPTS = 100;

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

/**
 * The framework-free store: sessions in PostgreSQL with session_pgsql's semantics.
 * Adapters (express, ...) only translate their framework's calls into these.
 */
export class SessionPgsql<Data = unknown> extends EventEmitter<SessionPgsqlEvents> {
  readonly options: ResolvedOptions<Data>;
  readonly #router: ServerRouter;
  readonly #ids: SessionIds;
  readonly #gc: GarbageCollector;
  readonly #failover: Failover;
  /** With the cache on a server: the last parameter of notifying statements (our instance id). */
  readonly #notifyArgs: readonly string[];
  readonly #codec: SessionCodec<Data>;
  #closed = false;
  #warnedEmbedded = false;

  constructor(options: SessionPgsqlOptions<Data> = {}) {
    super();
    this.options = resolveOptions(options);
    const o = this.options;
    const { servers, notifyArgs } = createServers(o, (server, up, error) =>
      up
        ? this.emit('recovery', { server: server.index, connection: server.connection })
        : this.emit('failover', { server: server.index, connection: server.connection, error }),
    );
    this.#notifyArgs = notifyArgs;
    this.#codec = new SessionCodec(o.serializer, o.maxSessionBytes);
    this.#router = new ServerRouter(servers, o.failoverMode);
    const warn = (code: string, what: string) => (error: unknown) =>
      process.emitWarning(`${what} failed: ${(error as Error).message}`, { code });
    this.#failover = new Failover(
      this.#router,
      o.healthCheckMillis,
      warn('SPG_HANDBACK_FAILED', 'moving sessions home after a failover'),
    );
    this.#ids = new SessionIds(o.idPattern, o.hashIds);
    this.#gc = new GarbageCollector(servers, {
      intervalSeconds: o.gcIntervalSeconds,
      batchSize: o.gcBatchSize,
      onCollected: (result) => this.emit('gc', result),
      onFailed: warn('SPG_GC_FAILED', 'garbage collection'),
    });
  }

  /** Reads a session. Resolves `undefined` for a missing, expired or malformed id; rejects on database failure. */
  async read(id: string): Promise<LoadedSession<Data> | undefined> {
    const key = this.#access(id);
    if (key === undefined) return undefined;
    return this.#routed(key, async (route) => {
      const server = route.target;
      if (route.others.length > 0)
        return this.#loaded(id, server, await this.#failover.reconcile(key, route));
      // A cache hit answers where batched reads do: at the end of this turn of the event loop.
      if (server.cache?.has(key)) await endOfTurn();
      const cached = server.cache?.get(key);
      if (cached) {
        const { raw, row, ...times } = cached;
        const state = new SessionState(id, server, row, { raw, expired: false, ...times });
        if ((state.remainingMillis() ?? 0) > 0) return { data: this.#codec.parse(raw), state };
      }
      const epoch = server.cache?.epoch ?? 0;
      const sentAt = performance.now();
      const row = await server.read(key);
      const loaded = this.#loaded(id, server, row);
      const snapshot = loaded?.state.snapshot;
      if (row && snapshot?.raw != null && !snapshot.expired) {
        const entry = cacheEntry(snapshot.raw, row, snapshot, sentAt);
        server.cache?.set(key, entry, epoch);
      }
      return loaded;
    });
  }

  #loaded(
    id: string,
    server: Server,
    row: SessionRow | undefined,
  ): LoadedSession<Data> | undefined {
    if (!row || isTombstone(row) || (row.expired && !this.options.keepExpired)) return undefined;
    const raw = row.sess_data;
    const state = new SessionState(
      id,
      server,
      row,
      snapshotOf(row.expired ? null : raw, row, row.now, row.expired),
    );
    if (raw === null) return { data: undefined, state };
    return row.expired
      ? { data: undefined, state, expiredData: this.#codec.parse(raw) }
      : { data: this.#codec.parse(raw), state };
  }

  /** A state for a session that has not been read (a new one), to hold metadata changes. */
  newState(id: string): SessionState {
    return new SessionState(id, this.#router.route(this.#ids.key(id) ?? '').target);
  }

  /**
   * Writes a session. Resolves `false` when the short circuit skipped a write that would
   * change nothing. Changes made meanwhile by another request to other top-level keys are kept.
   */
  async write(id: string, data: Data, options: WriteOptions = {}): Promise<boolean> {
    const key = this.#access(id, true);
    const raw = this.#codec.stringify(data);
    const state = options.state;
    const lifetime = this.#lifetime(options.lifetimeSeconds);
    if (this.#canSkip(state, lifetime) && raw === state?.snapshot?.raw) return false;
    await this.#write(key, id, raw, data, lifetime, options);
    return true;
  }

  /**
   * Extends a session's expiry. With the short circuit it costs nothing while the stored
   * expiry is fresh. Pending metadata changes turn it into a full write.
   */
  async touch(id: string, options: WriteOptions = {}): Promise<boolean> {
    const key = this.#access(id, true);
    const state = options.state;
    const lifetime = this.#lifetime(options.lifetimeSeconds);
    const raw = state?.snapshot?.raw;
    if (state?.dirty && typeof raw === 'string') {
      await this.#write(key, id, raw, undefined, lifetime, options);
      return true;
    }
    if (this.#canSkip(state, lifetime)) return false;
    const window = this.options.shortCircuit
      ? Math.floor(lifetime * this.options.touchAfterFraction)
      : 0;
    return this.#routed(key, async (route) => {
      if (route.others.length > 0) await this.#failover.reconcile(key, route);
      const server = route.target;
      const snapshot = state?.snapshot;
      // Our estimate of the database's clock before the statement runs (within a second).
      const dbNow = snapshot
        ? snapshot.dbNowSeconds + (performance.now() - snapshot.readAtMillis) / 1000
        : undefined;
      const touched = await server.touch([key, lifetime, window, options.address ?? null]);
      if (touched && dbNow !== undefined) {
        server.cache?.extend(key, Math.floor(dbNow) - 1 + lifetime); // never later than stored
      }
      return touched;
    });
  }

  /**
   * Deletes a session, on every server that may hold a copy. While a server before its
   * target is down, a tombstone stays so that server's stale copy can never come back.
   */
  async destroy(id: string): Promise<void> {
    const key = this.#access(id);
    if (key === undefined) return;
    await this.#routed(key, async (route) => {
      const target = route.target;
      target.cache?.invalidate(key);
      if (route.failedOver) {
        await target.run('tombstone', [key, ...this.#notifyArgs], 'record a destroyed session');
        await this.#failover.mark(route);
      } else {
        await target.run('destroy', [key, ...this.#notifyArgs], 'destroy a session');
      }
      // A read of ours that was in flight may have put the session back meanwhile.
      target.cache?.invalidate(key);
      for (const other of route.others) {
        await other.run('destroy', [key, ...this.#notifyArgs], 'destroy a copy').catch(() => {});
      }
    });
  }

  /** Deletes every expired session on every server now (for cron); resolves the number deleted. */
  gc(): Promise<number> {
    this.#access(undefined);
    return this.#gc.collect();
  }

  /** Number of live sessions. */
  async length(): Promise<number> {
    this.#access(undefined);
    let total = 0;
    for (const server of this.#router.servers) {
      const { rows } = await server.run<{ count: number }>('count', [], 'count sessions');
      total += Number(rows[0]?.count ?? 0);
    }
    return total;
  }

  /**
   * Every live session, keyed by its stored key: the id itself, or its SHA-256 digest
   * with `hashIds` (the ids are then not recoverable, by design).
   */
  async all(): Promise<Map<string, Data>> {
    this.#access(undefined);
    const sessions = new Map<string, Data>();
    for (const server of this.#router.servers) {
      const { rows } = await server.run<{ sess_id: string; sess_data: string | null }>(
        'list',
        [],
        'list sessions',
      );
      for (const row of rows)
        if (row.sess_data !== null) sessions.set(row.sess_id, this.#codec.parse(row.sess_data));
    }
    return sessions;
  }

  /** Stored keys of every live session (see `all`). */
  async ids(): Promise<string[]> {
    return [...(await this.all()).keys()];
  }

  /** Deletes every session. */
  async clear(): Promise<void> {
    this.#access(undefined);
    for (const server of this.#router.servers) {
      server.cache?.flush();
      await server.run('clear', [], 'clear sessions');
      server.cache?.flush(); // reads of ours in flight may have put sessions back meanwhile
      if (this.#notifyArgs.length > 0)
        await server.run('notifyAll', this.#notifyArgs, 'tell other processes');
    }
  }

  /** Servers, their health and the settings that shape behaviour, as session_pgsql_status() did. */
  async status(): Promise<StoreStatus> {
    const o = this.options;
    return Object.freeze({
      servers: Object.freeze(await Promise.all(this.#router.servers.map((s) => s.status()))),
      serverCount: this.#router.servers.length,
      failoverMode: o.failoverMode,
      shortCircuit: o.shortCircuit,
      keepExpired: o.keepExpired,
      gcIntervalSeconds: o.gcIntervalSeconds,
      embedded: o.db.kind === 'embedded',
      table: o.table.display,
    });
  }

  /** Reconnects every server (pools the store opened are replaced). */
  async reset(): Promise<void> {
    this.#access(undefined);
    await Promise.all(this.#router.servers.map((s) => s.reset()));
  }

  /** Stops garbage collection and closes the connections the store opened. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#failover.stop();
    await this.#gc.stop();
    await Promise.all(this.#router.servers.map((s) => s.close()));
  }

  /** Checks the store is open, starts background work, and returns the id's stored key. */
  #access(id: string | undefined, required: true): string;
  #access(id: string | undefined, required?: boolean): string | undefined;
  #access(id: string | undefined, required = false): string | undefined {
    if (this.#closed) throw new SessionPgsqlError(ErrorCodes.CLOSED, 'the session store is closed');
    if (this.options.db.kind === 'embedded' && !this.#warnedEmbedded) {
      this.#warnedEmbedded = true;
      process.emitWarning(
        `no "db" option: sessions are kept in the embedded PostgreSQL in ${this.options.db.dir}. This is for development only.`,
        { code: 'SPG_EMBEDDED_DATABASE' },
      );
    }
    this.#gc.onAccess();
    if (id === undefined && !required) return undefined;
    const key = this.#ids.key(id);
    if (key === undefined && required) {
      throw new SessionPgsqlError(
        ErrorCodes.INVALID_SESSION_ID,
        'invalid session id: it does not match idPattern',
      );
    }
    return key;
  }

  #lifetime(seconds: number | undefined): number {
    if (seconds === undefined || !Number.isFinite(seconds)) return this.options.ttlSeconds;
    return Math.max(1, Math.ceil(seconds));
  }

  /** The short circuit: nothing changed and the stored expiry is still within the window. */
  #canSkip(state: SessionState | undefined, lifetime: number): boolean {
    const snapshot = state?.snapshot;
    if (!this.options.shortCircuit || !state || !snapshot || snapshot.expired || state.dirty)
      return false;
    const dbNow = snapshot.dbNowSeconds + (performance.now() - snapshot.readAtMillis) / 1000;
    return snapshot.expireSeconds >= dbNow + lifetime - lifetime * this.options.touchAfterFraction;
  }

  #write(
    key: string,
    id: string,
    raw: string,
    data: Data | undefined,
    lifetime: number,
    options: WriteOptions,
  ): Promise<void> {
    return this.#routed(key, async (route) => {
      if (route.others.length > 0) await this.#failover.reconcile(key, route);
      if (route.failedOver) await this.#failover.mark(route);
      const server = route.target;
      const state = options.state ?? new SessionState(id, server);
      // What this request read, if it was read from the server written now.
      const snapshot = state.server.index === server.index ? state.snapshot : undefined;
      const base = snapshot?.expired === false ? snapshot.raw : null;
      let expected = base === null ? null : md5(base);
      let text = raw;
      for (let attempt = 1; ; attempt++) {
        const c = state.changes;
        const values: [string, ...unknown[]] = [
          key,
          this.options.name,
          text,
          lifetime,
          options.address ?? null,
          c.error,
          c.warning,
          c.notice,
          c.message,
          c.customSet,
          c.custom,
        ];
        const epoch = server.cache?.epoch ?? 0;
        const sentAt = performance.now();
        const row =
          expected === null
            ? (
                await server.run<MetadataRow>(
                  'write',
                  [...values, ...this.#notifyArgs],
                  'write a session',
                )
              ).rows[0]
            : await server.update([...values, expected, ...this.#notifyArgs]);
        if (row) {
          const written = snapshotOf(text, row, row.sess_modified ?? 0, false);
          state.written(row, written);
          server.cache?.written(key, cacheEntry(text, row, written, sentAt), epoch);
          return;
        }
        server.cache?.invalidate(key);
        // The row no longer holds what this request read. Destroyed meanwhile (a logout):
        // it stays destroyed. Changed by another request: merge our changes into theirs.
        const current = await server.read(key);
        if (!current || isTombstone(current)) return;
        const theirs = current.sess_data;
        if (current.expired || theirs === null || base === null || attempt >= MAX_MERGE_ATTEMPTS) {
          expected = null; // expired meanwhile, or too much contention: the last write wins
          continue;
        }
        expected = md5(theirs);
        if (data === undefined) {
          text = theirs; // a metadata-only write keeps the data the other request stored
          continue;
        }
        text = this.#codec.stringify(
          mergeSessions(this.#codec.parse(base), data, this.#codec.parse(theirs)) as Data,
        );
      }
    });
  }

  /**
   * Runs an operation on a session's servers: on its target, and when that server cannot
   * be reached, again on the next available one in the session's order.
   */
  async #routed<T>(key: string, operation: (route: Route) => Promise<T>): Promise<T> {
    await this.#failover.ready();
    const servers = this.#router.servers;
    for (let attempt = 1; ; attempt++) {
      try {
        const route = this.#router.route(key);
        // While copies may have to be moved home, one operation per session at a time here.
        return await (route.others.length > 0
          ? this.#failover.exclusive(key, () => operation(route))
          : operation(route));
      } catch (error) {
        const unreachable =
          error instanceof SessionPgsqlError && error.code === ErrorCodes.DB_UNREACHABLE;
        if (!unreachable || servers.length === 1) throw error;
        if (attempt >= servers.length || !servers.some((s) => s.available))
          throw noServerError(error);
      }
    }
  }
}

function snapshotOf(
  raw: string | null,
  row: MetadataRow,
  dbNow: number | string,
  expired: boolean,
): Snapshot {
  return Object.freeze({
    raw,
    expired,
    expireSeconds: Number(row.sess_expire ?? 0),
    dbNowSeconds: Number(dbNow),
    readAtMillis: performance.now(),
  });
}

/**
 * A cache entry dated from when its statement was sent, not when its answer came: our
 * estimate of the database's clock is then less than a second behind it (the clock is read
 * in whole seconds, rounded down), never more, so the cache stops serving a session
 * (estimate >= sess_expire) no later than the database does (clock >= sess_expire + 1).
 */
function cacheEntry(raw: string, row: MetadataRow, snapshot: Snapshot, sentAt: number): CachedRow {
  return {
    raw,
    row,
    expireSeconds: snapshot.expireSeconds,
    dbNowSeconds: snapshot.dbNowSeconds,
    readAtMillis: sentAt,
  };
}
