import { InvalidationListener, PING_STATEMENT } from '../cache/invalidation-listener.js';
import { SessionCache } from '../cache/session-cache.js';
import type { Database, QueryResult } from '../database/database.js';
import type { ListenConnection } from '../database/listen-connection.js';
import { databaseError, ErrorCodes } from '../errors.js';
import { bind, type SqlStatement } from '../sql/statement.js';
import type { ParamOf, RowOf, StatementKind, Statements } from '../sql/statements.js';
import { ensureTable } from '../sql/table.js';
import type { TableName } from '../sql/table-name.js';
import { ServerHealth } from './server-health.js';
import { SessionBatches } from './session-batches.js';

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
  /** Stored keys are digests (`hashIds`); else notifications name keys by their SHA-256. */
  readonly keysAreDigests: boolean;
  readonly channel: string;
  /** This process's id: the `instance` parameter of notifying statements. */
  readonly instanceId: string;
  readonly heartbeatMillis: number;
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

/** A statement's values by name (the server adds `instance` itself). */
export type ParamValues<K extends StatementKind> = Readonly<
  Record<Exclude<ParamOf<K>, 'instance'>, unknown>
>;

export type RunStatement = <K extends StatementKind>(
  kind: K,
  values: ParamValues<K>,
  action: string,
) => Promise<QueryResult<RowOf<K>>>;

/** SQLSTATE of a statement on a table that does not exist. */
const UNDEFINED_TABLE = '42P01';

/**
 * One PostgreSQL server: its connections, its table, its health, its cache and counters.
 * Every statement of the store's goes through `run`.
 */
export class Server {
  readonly index: number;
  /** The connection, password hidden. */
  readonly connection: string;
  /** Names the server in the hash that places sessions: the same in every process. */
  readonly id: string;
  /** Recently read sessions, when the cache is on. */
  readonly cache: SessionCache | undefined;
  readonly #settings: ServerSettings;
  /** Reads, touches and updates of sessions, batched per turn of the event loop. */
  readonly batches: SessionBatches;
  readonly #health: ServerHealth;
  readonly #listener: InvalidationListener | undefined;
  readonly #instance: string | undefined;
  #ready: Promise<void> | undefined;
  #latencyMillis: number | null = null;
  readonly #counts: Record<string, number> = {};

  constructor(settings: ServerSettings) {
    this.#settings = settings;
    this.index = settings.index;
    this.connection = settings.connection;
    this.id = settings.connection;
    const { database, statements } = settings;
    this.#health = new ServerHealth({
      healthCheckMillis: settings.healthCheckMillis,
      check: () =>
        database.query(statements.ping, []).catch((cause: unknown) => {
          throw databaseError(cause, 'check the server');
        }),
      onChange: (up, error) => settings.onHealthChange(this, up, error),
    });
    this.batches = new SessionBatches(this.run, settings.batchMaxSessions);
    const cache = settings.cache;
    if (!cache) return;
    this.#instance = cache.instanceId;
    this.cache = new SessionCache(cache.maxEntries, cache.keysAreDigests);
    if (cache.listen) {
      this.#listener = new InvalidationListener(this.cache, {
        channel: cache.channel,
        instanceId: cache.instanceId,
        heartbeatMillis: cache.heartbeatMillis,
        connect: cache.listen,
        ping: (values) => database.query(PING_STATEMENT, values),
      });
    } else {
      this.cache.enabled = true; // an in-process database: no other process can change it
    }
  }

  /** Runs a statement of the store's, once the table is known to exist. */
  readonly run: RunStatement = async (kind, values, action) => {
    const started = performance.now();
    const epoch = this.#health.epoch;
    this.#listener?.start();
    try {
      const statement = this.#settings.statements[kind];
      const bound = bind(statement as SqlStatement, { ...values, instance: this.#instance });
      const query = async () => {
        await this.#tableReady();
        return this.#settings.database.query<RowOf<typeof kind>>(statement, bound);
      };
      const result = await query().catch((cause: unknown) => {
        // The table was dropped while we ran (42P01): set it up again, once.
        if ((cause as { code?: unknown }).code !== UNDEFINED_TABLE) throw cause;
        this.#ready = undefined;
        return query();
      });
      this.#counts[kind] = (this.#counts[kind] ?? 0) + 1;
      this.#latencyMillis = performance.now() - started;
      this.#health.succeeded(epoch);
      return result;
    } catch (cause) {
      const error = databaseError(cause, action);
      this.#health.failed(error.message, error.code === ErrorCodes.DB_UNREACHABLE, error);
      throw error;
    }
  };

  #tableReady(): Promise<void> {
    const { database, statements, table, createTable } = this.#settings;
    this.#ready ??= ensureTable(database, statements, table, createTable).catch(
      (error: unknown) => {
        this.#ready = undefined;
        throw error;
      },
    );
    return this.#ready;
  }

  /** False while the server is known to be down (between a failure and a successful check). */
  get available(): boolean {
    return this.#health.available;
  }

  async status(): Promise<ServerStatus> {
    let sessions: number | null = null;
    try {
      const { rows } = await this.run('count', {}, 'count sessions');
      sessions = rows[0]?.count ?? 0;
    } catch {
      // reported through up and lastError
    }
    const latency = this.#latencyMillis;
    return Object.freeze({
      index: this.index,
      connection: this.connection,
      up: this.#health.up,
      lastError: this.#health.lastError,
      latencyMillis: latency === null ? null : Math.round(latency * 100) / 100,
      sessions,
      statements: Object.freeze({ ...this.#counts }),
      cache: this.cache
        ? Object.freeze({ enabled: this.cache.enabled, entries: this.cache.size })
        : null,
    });
  }

  async reset(): Promise<void> {
    this.#ready = undefined;
    this.#health.reset();
    await this.#settings.database.reset();
  }

  async close(): Promise<void> {
    this.#health.stop();
    await this.#listener?.stop();
    await this.#settings.database.close();
  }
}
