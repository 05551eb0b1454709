import { EventEmitter } from 'node:events';
import { ErrorCodes, SessionPgsqlError } from '../errors.js';
import { GarbageCollector } from '../gc/garbage-collector.js';
import {
  type ResolvedOptions,
  resolveOptions,
  type SessionPgsqlOptions,
} from '../options/options.js';
import { SessionRouting } from '../routing/session-routing.js';
import { createServers } from '../server/create-servers.js';
import { EmbeddedGuard } from './embedded-guard.js';
import { Fleet } from './fleet.js';
import type { InspectedSession } from './inspection.js';
import { errorFields, type Logger } from './log-fields.js';
import { type OperationNote, observed } from './operation-events.js';
import { Operations } from './operations.js';
import { SessionCodec } from './session-codec.js';
import { SessionIds } from './session-ids.js';
import { type LoadedSession, SessionReader } from './session-reader.js';
import { SessionState } from './session-state.js';
import type { SessionStats } from './session-stats.js';
import { SessionWriter } from './session-writer.js';
import type { SessionPgsqlEvents, StoreStatus, WriteOptions } from './store-types.js';

/** Longest lifetime a write accepts, in seconds (1000 years): a longer cookie is capped. */
export const MAX_LIFETIME_SECONDS = 1000 * 365 * 86_400;

/** A write or touch the short circuit answered: noted for its event, resolves `false`. */
function skipped(note: OperationNote | undefined, state: SessionState | undefined): false {
  if (note) {
    note.skipped = true;
    note.server = state?.server.index;
  }
  return false;
}

/** Background work that failed: to the logger when there is one, else a process warning. */
const warn = (logger: Logger | undefined, code: string, what: string) => (error: unknown) => {
  const message = `${what} failed: ${(error as Error).message}`;
  if (logger) logger.error({ code, error: errorFields(error) }, `session-pgsql: ${message}`);
  else process.emitWarning(message, { code });
};

/**
 * The framework-free store: sessions in PostgreSQL with session_pgsql's semantics.
 * Adapters (express, ...) only translate their framework's calls into these.
 */
export class SessionPgsql<Data = unknown> extends EventEmitter<SessionPgsqlEvents> {
  /** The options as validated (connection passwords hidden). */
  readonly options: ResolvedOptions<Data>;
  readonly #routing: SessionRouting;
  readonly #ids: SessionIds;
  readonly #gc: GarbageCollector;
  readonly #codec: SessionCodec<Data>;
  readonly #reader: SessionReader<Data>;
  readonly #writer: SessionWriter<Data>;
  readonly #fleet: Fleet<Data>;
  readonly #operations: Operations<Data>;
  readonly #embedded: EmbeddedGuard;
  #closed = false;

  constructor(options: SessionPgsqlOptions<Data> = {}) {
    super();
    const o = resolveOptions(options);
    this.options = o;
    const log = o.logger;
    const servers = createServers(o, (server, up, error) => {
      const where = { server: server.index, connection: server.connection };
      if (up) {
        log?.info(where, 'session-pgsql: server answers again');
        this.emit('recovery', where);
      } else {
        log?.warn(
          { ...where, error: errorFields(error) },
          'session-pgsql: server down, failing over',
        );
        this.emit('failover', { ...where, error });
      }
    });
    this.#routing = new SessionRouting(servers, {
      failoverMode: o.failoverMode,
      placement: o.placement,
      healthCheckMillis: o.healthCheckMillis,
      onHandBackFailed: warn(log, 'SPG_HANDBACK_FAILED', 'moving sessions home after a failover'),
    });
    this.#codec = new SessionCodec(o.serializer, o.maxSessionBytes);
    const [routing, codec] = [this.#routing, this.#codec];
    this.#fleet = new Fleet(servers, codec);
    this.#reader = new SessionReader({
      routing,
      codec,
      keepExpired: o.keepExpired,
      onCacheLookup: (hit) =>
        this.listenerCount('cacheLookup') > 0 && this.emit('cacheLookup', { hit }),
    });
    this.#writer = new SessionWriter({ routing, codec, name: o.name });
    this.#ids = new SessionIds(o.idPattern, o.hashIds);
    this.#embedded = new EmbeddedGuard(o.db);
    this.#operations = new Operations(routing, codec, (key) => this.#writer.destroy(key));
    this.#gc = new GarbageCollector(servers, {
      intervalSeconds: o.gcIntervalSeconds,
      checkMillis: o.gcCheckMillis,
      batchSize: o.gcBatchSize,
      onCollected: (result) => {
        log?.debug({ ...result }, 'session-pgsql: expired sessions collected');
        this.emit('gc', result);
      },
      onFailed: warn(log, 'SPG_GC_FAILED', 'garbage collection'),
    });
  }

  /** Reads a session. Resolves `undefined` for a missing, expired or malformed id; rejects on database failure. */
  read(id: string): Promise<LoadedSession<Data> | undefined> {
    return observed(this, 'read', async (note) => {
      const key = this.#access(id);
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
    return observed(this, 'write', (note) => this.#write(id, data, options, note));
  }

  async #write(
    id: string,
    data: Data,
    options: WriteOptions,
    note: OperationNote | undefined,
  ): Promise<boolean> {
    const key = this.#access(id, true);
    const raw = this.#codec.stringify(data);
    const { state, address } = options;
    const lifetimeSeconds = this.#lifetime(options.lifetimeSeconds);
    if (this.#canSkip(state, lifetimeSeconds) && raw === state?.snapshot?.raw)
      return skipped(note, state);
    await this.#writer.write({ id, key, raw, data, lifetimeSeconds, address, state, note });
    return true;
  }

  /**
   * Extends a session's expiry. With the short circuit it costs nothing while the stored
   * expiry is fresh. Pending metadata changes turn it into a full write.
   */
  touch(id: string, options: WriteOptions = {}): Promise<boolean> {
    return observed(this, 'touch', (note) => this.#touch(id, options, note));
  }

  async #touch(
    id: string,
    options: WriteOptions,
    note: OperationNote | undefined,
  ): Promise<boolean> {
    const key = this.#access(id, true);
    const { state, address } = options;
    const lifetimeSeconds = this.#lifetime(options.lifetimeSeconds);
    const raw = state?.snapshot?.raw;
    if (state?.dirty && typeof raw === 'string') {
      const data = undefined;
      await this.#writer.write({ id, key, raw, data, lifetimeSeconds, address, state, note });
      return true;
    }
    if (this.#canSkip(state, lifetimeSeconds)) return skipped(note, state);
    const { shortCircuit, touchAfterFraction } = this.options;
    const skipSeconds = shortCircuit ? Math.floor(lifetimeSeconds * touchAfterFraction) : 0;
    return this.#writer.touch({ key, lifetimeSeconds, skipSeconds, address, state, note });
  }

  /**
   * Deletes a session, on every server that may hold a copy. While a server before its
   * target is down, a tombstone stays so that server's stale copy can never come back.
   */
  destroy(id: string): Promise<void> {
    return observed(this, 'destroy', async (note) => {
      const key = this.#access(id);
      if (key !== undefined) await this.#writer.destroy(key, note);
    });
  }

  /**
   * Signs a session out by its stored key (as `ids()` lists it: the SHA-256 digest with
   * `hashIds`, else the id) on every server; other processes' caches drop it. True if deleted.
   */
  async revokeByKey(key: string): Promise<boolean> {
    this.#operator('revokeByKey');
    return this.#operations.revokeKey(key);
  }

  /** `revokeByKey` by session id (a malformed id names no session: false). */
  async revoke(id: string): Promise<boolean> {
    return this.#operations.revokeKey(this.#operator('revoke', id));
  }

  /** Deletes every session whose custom field equals `field`, on every server; resolves how many. */
  async revokeUser(field: string): Promise<number> {
    this.#operator('revokeUser');
    return this.#operations.revokeField(field);
  }

  /** Sessions, sizes, times and accesses per server and in total; a server down is reported so. */
  async stats(): Promise<SessionStats> {
    this.#operator('stats');
    return this.#operations.stats();
  }

  /** One session's metadata and data (or its text and the decode error), by id or stored key. */
  async inspect(
    idOrKey: string,
    options: { byKey?: boolean } = {},
  ): Promise<InspectedSession<Data> | undefined> {
    const key = this.#operator('inspect', options.byKey ? undefined : idOrKey);
    return this.#operations.inspect(options.byKey ? idOrKey : key);
  }

  /** Deletes every expired session on every server now (for cron); resolves the number deleted. */
  async gc(): Promise<number> {
    this.#operator('gc');
    return this.#gc.collect();
  }

  /** Number of live sessions. */
  async length(): Promise<number> {
    this.#operator('length');
    return this.#fleet.length();
  }

  /**
   * Every live session, keyed by its stored key: the id itself, or its SHA-256 digest
   * with `hashIds` (the ids are then not recoverable, by design).
   */
  async all(): Promise<Map<string, Data>> {
    this.#access(undefined);
    return this.#fleet.all();
  }

  /** Stored keys of every live session (see `all`). */
  async ids(): Promise<string[]> {
    return [...(await this.all()).keys()];
  }

  /** Deletes every session. */
  async clear(): Promise<void> {
    this.#operator('clear');
    return this.#fleet.clear();
  }

  /** Servers, their health and the settings that shape behaviour, as session_pgsql_status() did. */
  async status(): Promise<StoreStatus> {
    this.#access(undefined);
    return this.#fleet.status(this.options);
  }

  /** Reconnects every server (pools the store opened are replaced). */
  async reset(): Promise<void> {
    this.#access(undefined);
    await this.#fleet.reset();
  }

  /** Stops garbage collection and closes the connections the store opened. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.emit('close');
    await this.#routing.stop();
    await this.#gc.stop();
    await this.#fleet.close();
  }

  /** Session traffic: checks the store is open, starts background work, returns the id's stored key. */
  #access(id: string | undefined, required: true): string;
  #access(id: string | undefined, required?: boolean): string | undefined;
  #access(id: string | undefined, required = false): string | undefined {
    this.#open();
    if (id === undefined && !required) return undefined;
    this.#embedded.trafficStarted();
    const key = this.#ids.key(id);
    if (key === undefined && required) {
      throw new SessionPgsqlError(
        ErrorCodes.INVALID_SESSION_ID,
        'invalid session id: it does not match idPattern',
      );
    }
    return key;
  }

  /** An operator call: on an embedded database, only one that exists (SPG_EMBEDDED_NOT_FOUND). */
  #operator(call: string, id?: string): string | undefined {
    this.#open(call);
    return id === undefined ? undefined : this.#ids.key(id);
  }

  #open(operatorCall?: string): void {
    if (this.#closed) throw new SessionPgsqlError(ErrorCodes.CLOSED, 'the session store is closed');
    this.#embedded.accessed();
    if (operatorCall !== undefined) this.#embedded.check(operatorCall);
    this.#gc.onAccess();
  }

  #lifetime(seconds: number | undefined): number {
    if (seconds === undefined || !Number.isFinite(seconds)) return this.options.ttlSeconds;
    return Math.min(MAX_LIFETIME_SECONDS, Math.max(1, Math.ceil(seconds)));
  }

  /** The short circuit: nothing changed and the stored expiry is still within the window. */
  #canSkip(state: SessionState | undefined, lifetime: number): boolean {
    const snapshot = state?.snapshot;
    if (!this.options.shortCircuit || !state || !snapshot || snapshot.expired || state.dirty)
      return false;
    const dbNow = snapshot.dbNowSeconds + (performance.now() - snapshot.readAtMillis) / 1000;
    return snapshot.expireSeconds >= dbNow + lifetime - lifetime * this.options.touchAfterFraction;
  }
}
