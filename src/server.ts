import { Batcher } from './batcher.js';
import {
  InvalidationListener,
  type ListenConnection,
  PING_STATEMENT,
} from './cache/invalidation-listener.js';
import { SessionCache } from './cache/session-cache.js';
import type { Database, QueryResult } from './database/database.js';
import { databaseError } from './errors.js';
import type { MetadataRow, SessionRow } from './session-state.js';
import type { Statements } from './statements.js';
import { ensureTable } from './table.js';
import type { TableName } from './table-name.js';

export interface ServerStatus {
  /** Position in the `db` list, from 0. */
  readonly index: number;
  /** The connection, password hidden. */
  readonly connection: string;
  /** `true` after a statement succeeded, `false` after one failed to reach it, `null` before any. */
  readonly up: boolean | null;
  /** The last failure's message, if the last statement failed. */
  readonly lastError: string | null;
  /** Round-trip time of the last statement, in milliseconds. */
  readonly latencyMillis: number | null;
  /** Live (unexpired) sessions stored there; `null` when it could not be counted. */
  readonly sessions: number | null;
  /** Statements run there since start, by kind. */
  readonly statements: Readonly<Record<string, number>>;
  /** The cache of this server's sessions, when the `cache` option is on. */
  readonly cache: { readonly enabled: boolean; readonly entries: number } | null;
}

export interface ServerCacheSettings {
  readonly maxEntries: number;
  readonly channel: string;
  readonly instanceId: string;
  /** A dedicated connection for LISTEN; `undefined` for an in-process database. */
  readonly listen: (() => Promise<ListenConnection>) | undefined;
}

export interface ServerSettings {
  readonly index: number;
  readonly connection: string;
  readonly database: Database;
  readonly statements: Statements;
  readonly table: TableName;
  readonly createTable: boolean;
  readonly cache: ServerCacheSettings | undefined;
  /** Longest wait between two health checks of a server that is down, in milliseconds. */
  readonly healthCheckMillis: number;
  /** Most sessions one statement reads, touches or updates. */
  readonly batchMaxSessions: number;
  /** Told when the server goes down (with the error) and when it comes back. */
  readonly onHealthChange: (server: Server, up: boolean, error?: unknown) => void;
}

/** A touch's parameters: key, lifetime (s), no write while the expiry is within (s), address. */
export type TouchValues = readonly [string, number, number, string | null];

/**
 * An update's parameters: key, name, data, lifetime (s), address, error, warning and notice
 * added, message, custom field set?, custom field, md5 of what was read; then, with the
 * cache, the instance id.
 */
export type UpdateValues = readonly [string, ...unknown[]];

/** Deadlocks between batched statements (PostgreSQL aborts one of them) retried before failing. */
const DEADLOCK_RETRIES = 3;

/** First wait before checking a server that went down; it doubles up to `healthCheckMillis`. */
const FIRST_HEALTH_CHECK_MILLIS = 250;

/**
 * One PostgreSQL server: its connections, its table, its health and counters. A server
 * that cannot be reached is marked down and checked again with back-off until it answers.
 */
export class Server {
  readonly index: number;
  readonly connection: string;
  /** Names the server in the hash that places sessions: the same in every process. */
  readonly id: string;
  readonly #settings: ServerSettings;
  #down = false;
  /** Times the server was marked down. */
  #downs = 0;
  #closed = false;
  #checks = 0;
  #checkTimer: NodeJS.Timeout | undefined;
  readonly #database: Database;
  readonly #statements: Statements;
  readonly #table: TableName;
  readonly #createTable: boolean;
  #ready: Promise<void> | undefined;
  #up: boolean | null = null;
  #lastError: string | null = null;
  #latencyMillis: number | null = null;
  readonly #counts: Record<string, number> = {};
  readonly #reads: Batcher<string, SessionRow | undefined>;
  readonly #touches: Batcher<TouchValues, boolean>;
  readonly #updates: Batcher<UpdateValues, MetadataRow | undefined>;

  /** Recently read sessions, when the cache is on. */
  readonly cache: SessionCache | undefined;
  readonly #listener: InvalidationListener | undefined;

  constructor(settings: ServerSettings) {
    this.#settings = settings;
    this.index = settings.index;
    this.connection = settings.connection;
    this.id = settings.connection;
    this.#database = settings.database;
    this.#statements = settings.statements;
    this.#table = settings.table;
    this.#createTable = settings.createTable;
    const most = settings.batchMaxSessions;
    this.#reads = new Batcher((keys) => this.#readMany(keys), most);
    this.#touches = new Batcher(
      (items) => this.#touchMany(items),
      most,
      ([key]) => key,
    );
    this.#updates = new Batcher(
      (items) => this.#updateMany(items),
      most,
      ([key]) => key,
    );
    const cache = settings.cache;
    if (!cache) return;
    this.cache = new SessionCache(cache.maxEntries);
    if (cache.listen) {
      this.#listener = new InvalidationListener(this.cache, {
        channel: cache.channel,
        instanceId: cache.instanceId,
        connect: cache.listen,
        ping: (values) => this.#database.query(PING_STATEMENT, values),
      });
    } else {
      this.cache.enabled = true; // an in-process database: no other process can change it
    }
  }

  /** Runs a statement of the store's, once the table is known to exist. */
  async run<Row>(
    kind: keyof Statements,
    values: readonly unknown[],
    action: string,
  ): Promise<QueryResult<Row>> {
    const started = performance.now();
    const downs = this.#downs;
    this.#listener?.start();
    try {
      this.#ready ??= ensureTable(
        this.#database,
        this.#statements,
        this.#table,
        this.#createTable,
      ).catch((error: unknown) => {
        this.#ready = undefined;
        throw error;
      });
      await this.#ready;
      const result = await this.#database.query<Row>(this.#statements[kind], values);
      this.#counts[kind] = (this.#counts[kind] ?? 0) + 1;
      this.#latencyMillis = performance.now() - started;
      // A statement sent before the server was marked down says nothing of it now.
      if (downs === this.#downs) this.#markUp();
      return result;
    } catch (cause) {
      const error = databaseError(cause, action);
      this.#lastError = error.message;
      if (error.code === 'SPG_DB_UNREACHABLE') this.#markDown(error);
      throw error;
    }
  }

  /**
   * Reads a session's row. The reads of one turn of the event loop share one statement:
   * under load, one round trip serves many requests.
   */
  read(key: string): Promise<SessionRow | undefined> {
    return this.#reads.add(key);
  }

  async #readMany(keys: string[]): Promise<(SessionRow | undefined)[]> {
    if (keys.length === 1) {
      const { rows } = await this.run<SessionRow>('read', keys, 'read a session');
      return [rows[0]];
    }
    const { rows } = await this.run<SessionRow & { sess_id: string }>(
      'readMany',
      [[...new Set(keys)]],
      'read sessions',
    );
    const byKey = new Map(rows.map((row) => [row.sess_id, row]));
    return keys.map((key) => byKey.get(key));
  }

  /** Extends a session's expiry; false when the row is missing, expired, or within the window. */
  touch(values: TouchValues): Promise<boolean> {
    return this.#touches.add(values);
  }

  /**
   * Updates a session if it still holds what was read (the `update` statement's parameters);
   * resolves the written row's metadata, or `undefined` when it changed or went meanwhile.
   */
  update(values: UpdateValues): Promise<MetadataRow | undefined> {
    return this.#updates.add(values);
  }

  async #touchMany(items: TouchValues[]): Promise<boolean[]> {
    if (items.length === 1) {
      const { rowCount } = await this.run('touch', items[0] as TouchValues, 'touch a session');
      return [rowCount > 0];
    }
    const touched = await this.#runMany('touchMany', items, 4, [], 'touch sessions');
    return items.map(([key]) => touched.has(key));
  }

  async #updateMany(items: UpdateValues[]): Promise<(MetadataRow | undefined)[]> {
    if (items.length === 1) {
      const { rows } = await this.run<MetadataRow>(
        'update',
        items[0] as UpdateValues,
        'write a session',
      );
      return [rows[0]];
    }
    // Parameters after the 12 per-session ones (the instance id, with the cache) are shared.
    const shared = (items[0] as UpdateValues).slice(12);
    const written = await this.#runMany<MetadataRow & { sess_id: string }>(
      'updateMany',
      items,
      12,
      shared,
      'write sessions',
    );
    return items.map(([key]) => written.get(key));
  }

  /**
   * Runs a statement over several sessions (distinct keys) with one array parameter per
   * column, in key order so that concurrent batches lock rows in one order. PostgreSQL still
   * aborts one of two batches in a deadlock (with other writers): that batch is run again.
   */
  async #runMany<Row extends { sess_id: string }>(
    kind: 'touchMany' | 'updateMany',
    items: readonly (readonly unknown[])[],
    columns: number,
    shared: readonly unknown[],
    action: string,
  ): Promise<Map<string, Row>> {
    const sorted = [...items].sort((a, b) => ((a[0] as string) < (b[0] as string) ? -1 : 1));
    const values = [
      ...Array.from({ length: columns }, (_, column) => sorted.map((item) => item[column])),
      ...shared,
    ];
    for (let attempt = 1; ; attempt++) {
      try {
        const { rows } = await this.run<Row>(kind, values, action);
        return new Map(rows.map((row) => [row.sess_id, row]));
      } catch (error) {
        const sqlState = ((error as Error).cause as { code?: unknown } | undefined)?.code;
        if (sqlState !== '40P01' || attempt > DEADLOCK_RETRIES) throw error;
      }
    }
  }

  /** Homes (server ids) whose sessions this server holds after a failover, from its marker rows. */
  foreignHomes: ReadonlySet<string> = new Set();

  /** True when this server carries a failover marker for one of `homes`. */
  holdsSessionsOf(homes: ReadonlySet<string>): boolean {
    for (const home of this.foreignHomes) if (homes.has(home)) return true;
    return false;
  }

  /** False while the server is known to be down (between a failure and a successful check). */
  get available(): boolean {
    return !this.#down;
  }

  #markUp(): void {
    this.#up = true;
    this.#lastError = null;
    if (!this.#down) return;
    this.#down = false;
    this.#checks = 0;
    clearTimeout(this.#checkTimer);
    this.#checkTimer = undefined;
    this.#settings.onHealthChange(this, true);
  }

  #markDown(error: unknown): void {
    this.#up = false;
    if (this.#down) return;
    this.#down = true;
    this.#downs += 1;
    this.#settings.onHealthChange(this, false, error);
    this.#scheduleCheck();
  }

  #scheduleCheck(): void {
    if (this.#closed) return;
    const wait = Math.min(
      this.#settings.healthCheckMillis,
      FIRST_HEALTH_CHECK_MILLIS * 2 ** this.#checks,
    );
    this.#checks += 1;
    this.#checkTimer = setTimeout(
      () => {
        this.#database.query(this.#statements.ping, []).then(
          () => this.#markUp(),
          (cause: unknown) => {
            this.#lastError = databaseError(cause, 'check the server').message;
            if (this.#down) this.#scheduleCheck();
          },
        );
      },
      wait * (0.75 + Math.random() / 2),
    );
    this.#checkTimer.unref();
  }

  async status(): Promise<ServerStatus> {
    let sessions: number | null = null;
    try {
      const { rows } = await this.run<{ count: number }>('count', [], 'count sessions');
      sessions = Number(rows[0]?.count ?? 0);
    } catch {
      // reported through up and lastError
    }
    return Object.freeze({
      index: this.index,
      connection: this.connection,
      up: this.#up,
      lastError: this.#lastError,
      latencyMillis:
        this.#latencyMillis === null ? null : Math.round(this.#latencyMillis * 100) / 100,
      sessions,
      statements: Object.freeze({ ...this.#counts }),
      cache: this.cache
        ? Object.freeze({ enabled: this.cache.enabled, entries: this.cache.size })
        : null,
    });
  }

  async reset(): Promise<void> {
    this.#ready = undefined;
    this.#up = null;
    await this.#database.reset();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#checkTimer);
    await this.#listener?.stop();
    await this.#database.close();
  }
}
