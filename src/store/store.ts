import { EventEmitter } from 'node:events';
import { GarbageCollector } from '../gc/garbage-collector.js';
import {
  type ResolvedOptions,
  resolveOptions,
  type SessionPgsqlOptions,
} from '../options/options.js';
import { SessionRouting } from '../routing/session-routing.js';
import { createServers } from '../server/create-servers.js';
import { reportFailure, reportHealth } from './background-reports.js';
import { Fleet } from './fleet.js';
import type { InspectedSession } from './inspection.js';
import { observed } from './operation-events.js';
import { Operations } from './operations.js';
import { SessionCodec } from './session-codec.js';
import { SessionIds } from './session-ids.js';
import { type LoadedSession, SessionReader } from './session-reader.js';
import { SessionState } from './session-state.js';
import type { SessionStats } from './session-stats.js';
import { SessionUpdates } from './session-updates.js';
import { SessionWriter } from './session-writer.js';
import { StoreGate } from './store-gate.js';
import type { SessionPgsqlEvents, StoreStatus, WriteOptions } from './store-types.js';

/**
 * The framework-free store: sessions in PostgreSQL with session_pgsql's semantics.
 * Adapters (express, ...) only translate their framework's calls into these.
 */
export class SessionPgsql<Data = unknown> extends EventEmitter<SessionPgsqlEvents> {
  /** The options as validated (connection passwords hidden). */
  readonly options: ResolvedOptions<Data>;
  readonly #routing: SessionRouting;
  readonly #ids: SessionIds;
  readonly #gate: StoreGate;
  readonly #gc: GarbageCollector;
  readonly #reader: SessionReader<Data>;
  readonly #writer: SessionWriter<Data>;
  readonly #updates: SessionUpdates<Data>;
  readonly #fleet: Fleet<Data>;
  readonly #operations: Operations<Data>;

  constructor(options: SessionPgsqlOptions<Data> = {}) {
    super();
    const o = resolveOptions(options);
    this.options = o;
    const log = o.logger;
    const servers = createServers(o, reportHealth(this, log));
    const routing = new SessionRouting(servers, {
      failoverMode: o.failoverMode,
      placement: o.placement,
      healthCheckMillis: o.healthCheckMillis,
      onHandBackFailed: reportFailure(
        log,
        'SPG_HANDBACK_FAILED',
        'moving sessions home after a failover',
      ),
    });
    const codec = new SessionCodec(o.serializer, o.maxSessionBytes);
    this.#routing = routing;
    this.#fleet = new Fleet(servers, codec);
    this.#reader = new SessionReader({
      routing,
      codec,
      keepExpired: o.keepExpired,
      onCacheLookup: (hit) =>
        this.listenerCount('cacheLookup') > 0 && this.emit('cacheLookup', { hit }),
    });
    this.#writer = new SessionWriter({ routing, codec, name: o.name });
    this.#updates = new SessionUpdates(this.#writer, codec, o);
    this.#operations = new Operations(routing, codec, (key) => this.#writer.destroy(key));
    this.#gc = new GarbageCollector(servers, {
      intervalSeconds: o.gcIntervalSeconds,
      checkMillis: o.gcCheckMillis,
      batchSize: o.gcBatchSize,
      onCollected: (result) => {
        log?.debug({ ...result }, 'session-pgsql: expired sessions collected');
        this.emit('gc', result);
      },
      onFailed: reportFailure(log, 'SPG_GC_FAILED', 'garbage collection'),
    });
    this.#ids = new SessionIds(o.idPattern, o.hashIds);
    this.#gate = new StoreGate(this.#ids, o.db, () => this.#gc.onAccess());
  }

  /** Reads a session. Resolves `undefined` for a missing, expired or malformed id; rejects on database failure. */
  read(id: string): Promise<LoadedSession<Data> | undefined> {
    return observed(this, 'read', async (note) => {
      const key = this.#gate.session(id);
      return key === undefined ? undefined : this.#reader.read(id, key, note);
    });
  }

  /** A new session id (256 random bits) that `idPattern` accepts, for adapters that make their own ids. */
  generateId(): string {
    return this.#ids.generate();
  }

  /** A state for a session that has not been read (a new one), to hold metadata changes. */
  newState(id: string): SessionState {
    return new SessionState(id, this.#routing.route(this.#ids.key(id) ?? '').target);
  }

  /**
   * Writes a session. Resolves `false` when the short circuit skipped a write that would
   * change nothing. Changes made meanwhile by another request to other top-level keys are kept.
   */
  write(id: string, data: Data, options: WriteOptions = {}): Promise<boolean> {
    return observed(this, 'write', async (note) =>
      this.#updates.write(id, this.#gate.sessionToStore(id), data, options, note),
    );
  }

  /**
   * Extends a session's expiry. With the short circuit it costs nothing while the stored
   * expiry is fresh. Pending metadata changes turn it into a full write.
   */
  touch(id: string, options: WriteOptions = {}): Promise<boolean> {
    return observed(this, 'touch', async (note) =>
      this.#updates.touch(id, this.#gate.sessionToStore(id), options, note),
    );
  }

  /**
   * Deletes a session, on every server that may hold a copy. While a server before its
   * target is down, a tombstone stays so that server's stale copy can never come back.
   */
  destroy(id: string): Promise<void> {
    return observed(this, 'destroy', async (note) => {
      const key = this.#gate.session(id);
      if (key !== undefined) await this.#writer.destroy(key, note);
    });
  }

  /**
   * Signs a session out by its stored key (as `ids()` lists it: the SHA-256 digest with
   * `hashIds`, else the id) on every server; other processes' caches drop it. True if deleted.
   */
  async revokeByKey(key: string): Promise<boolean> {
    this.#gate.operator('revokeByKey');
    return this.#operations.revokeKey(key);
  }

  /** `revokeByKey` by session id (a malformed id names no session: false). */
  async revoke(id: string): Promise<boolean> {
    return this.#operations.revokeKey(this.#gate.operator('revoke', id));
  }

  /** Deletes every session whose custom field equals `field`, on every server; resolves how many. */
  async revokeUser(field: string): Promise<number> {
    this.#gate.operator('revokeUser');
    return this.#operations.revokeField(field);
  }

  /** Sessions, sizes, times and accesses per server and in total; a server down is reported so. */
  async stats(): Promise<SessionStats> {
    this.#gate.operator('stats');
    return this.#operations.stats();
  }

  /** One session's metadata and data (or its text and the decode error), by id or stored key. */
  async inspect(
    idOrKey: string,
    options: { byKey?: boolean } = {},
  ): Promise<InspectedSession<Data> | undefined> {
    const key = this.#gate.operator('inspect', options.byKey ? undefined : idOrKey);
    return this.#operations.inspect(options.byKey ? idOrKey : key);
  }

  /** Deletes every expired session on every server now (for cron); resolves the number deleted. */
  async gc(): Promise<number> {
    this.#gate.operator('gc');
    return this.#gc.collect();
  }

  /** Number of live sessions. */
  async length(): Promise<number> {
    this.#gate.operator('length');
    return this.#fleet.length();
  }

  /**
   * Every live session, keyed by its stored key: the id itself, or its SHA-256 digest
   * with `hashIds` (the ids are then not recoverable, by design).
   */
  async all(): Promise<Map<string, Data>> {
    this.#gate.fleet();
    return this.#fleet.all();
  }

  /** Stored keys of every live session (see `all`). */
  async ids(): Promise<string[]> {
    return [...(await this.all()).keys()];
  }

  /** Deletes every session. */
  async clear(): Promise<void> {
    this.#gate.operator('clear');
    return this.#fleet.clear();
  }

  /** Servers, their health and the settings that shape behaviour, as session_pgsql_status() did. */
  async status(): Promise<StoreStatus> {
    this.#gate.fleet();
    return this.#fleet.status(this.options);
  }

  /** Reconnects every server (pools the store opened are replaced). */
  async reset(): Promise<void> {
    this.#gate.fleet();
    await this.#fleet.reset();
  }

  /** Stops garbage collection and closes the connections the store opened. */
  async close(): Promise<void> {
    if (!this.#gate.close()) return;
    this.emit('close');
    await this.#routing.stop();
    await this.#gc.stop();
    await this.#fleet.close();
  }
}
