import pg from 'pg';
import { ErrorCodes, SessionPgsqlError } from '../errors.js';
import type { Database, QueryResult, Statement, Transaction } from './database.js';
import { INT8_OID, parseInt8 } from './int8.js';
import type { ListenConnection, PgClientLike } from './listen-connection.js';

/** A statement as node-postgres takes it. */
interface PgQueryConfig {
  name?: string;
  text: string;
  values?: unknown[];
  types?: { getTypeParser(oid: number, format?: string): unknown };
}

interface PgQueryResult {
  rows: unknown[];
  rowCount: number | null;
}

/** A connection held from a pool: for LISTEN, and for the statements of one transaction. */
export interface PgPoolClientLike extends PgClientLike {
  query(text: string): Promise<unknown>;
  query(config: PgQueryConfig): Promise<PgQueryResult>;
  release(error?: Error | boolean): void;
}

/**
 * The part of a `pg` Pool the store uses, typed by its shape so that any
 * compatible pool (pg, pg-pool, a wrapper) can be passed in.
 */
export interface PgPoolLike {
  query(config: PgQueryConfig): Promise<PgQueryResult>;
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): unknown;
  /**
   * Holds one connection: for LISTEN when the cache is on and no `cacheListenDb` is given,
   * and for the one transaction of `upgradeTable`.
   */
  connect?(): Promise<PgPoolClientLike>;
}

export interface PgDatabaseSettings {
  readonly config: pg.PoolConfig;
  readonly poolSize: number;
  readonly connectTimeoutMillis: number;
  readonly queryTimeoutMillis: number;
  readonly preparedStatements: boolean;
}

/**
 * Type parsers for the store's statements: `bigint` as a number. Given per statement, so
 * that a pool the user passed keeps its own parsers for everything else.
 */
const types = {
  getTypeParser(oid: number, format?: string): unknown {
    return oid === INT8_OID && format !== 'binary'
      ? parseInt8
      : pg.types.getTypeParser(oid, format as 'text');
  },
};

/** A dedicated client (not from the pool) for LISTEN, e.g. to bypass a transaction pooler. */
export async function openListenConnection(
  config: pg.ClientConfig,
  connectTimeoutMillis: number,
): Promise<ListenConnection> {
  const client = new pg.Client({
    ...config,
    connectionTimeoutMillis: connectTimeoutMillis,
    keepAlive: true,
  });
  client.on('error', () => {});
  await client.connect();
  // A connection given up on may be dead without knowing it (a hung server): end it, and
  // if the server does not answer the goodbye, drop the socket.
  const close = async () => {
    const timer = setTimeout(() => client.connection.stream.destroy(), 1000);
    await client.end().finally(() => clearTimeout(timer));
  };
  return Object.assign(client as PgClientLike, { close }) as ListenConnection;
}

/**
 * How much longer the client waits than the server's own `statement_timeout` (half of it,
 * from 100 ms to 1 s): the server normally ends a statement first (and rolls it back, so
 * that a write that timed out is never applied later); the client's limit is for a server
 * that stopped answering at all.
 */
const clientGraceOf = (queryTimeoutMillis: number) =>
  Math.min(1000, Math.max(100, Math.floor(queryTimeoutMillis / 2)));

/**
 * A lock wait ends well before the statement's own limit (half of it), with its own error
 * (55P03), so that a busy machine cannot turn it into a statement timeout.
 */
const lockTimeoutOf = (queryTimeoutMillis: number) =>
  Math.max(1, Math.floor(queryTimeoutMillis / 2));

/** PgBouncer refuses startup parameters it does not track, such as statement_timeout. */
const isRefusedStartupParameter = (error: unknown) =>
  /unsupported startup parameter/i.test((error as Error | undefined)?.message ?? '');

/** A server reached through node-postgres: either a pool we own or the user's own. */
export class PgDatabase implements Database {
  #pool: PgPoolLike;
  readonly #owned: PgDatabaseSettings | undefined;
  #prepared: boolean;
  /**
   * The pool we own sets `statement_timeout` and `lock_timeout` on its connections, unless
   * a pooler in between refused them (then they are left to the role's settings).
   */
  #serverTimeouts = true;
  readonly listen: (() => Promise<ListenConnection>) | undefined;

  private constructor(pool: PgPoolLike, owned: PgDatabaseSettings | undefined, prepared: boolean) {
    this.#pool = pool;
    this.#owned = owned;
    this.#prepared = prepared;
    const connect = pool.connect?.bind(pool);
    this.listen = owned
      ? () => openListenConnection(owned.config, owned.connectTimeoutMillis)
      : connect &&
        (async () => {
          const client = await connect();
          client.on('error', () => {});
          return Object.assign(client, { close: async () => client.release(true) });
        });
  }

  /** Opens a pool of our own, which `reset()` may replace and `close()` ends. */
  static open(settings: PgDatabaseSettings): PgDatabase {
    return new PgDatabase(
      PgDatabase.#createPool(settings, true),
      settings,
      settings.preparedStatements,
    );
  }

  /** Wraps the user's pool: we never end or replace it. */
  static wrap(pool: PgPoolLike, preparedStatements: boolean): PgDatabase {
    // A server restart makes idle clients emit 'error' on the pool; unhandled, it kills the process.
    pool.on('error', () => {});
    return new PgDatabase(pool, undefined, preparedStatements);
  }

  static #createPool(settings: PgDatabaseSettings, serverTimeouts: boolean): PgPoolLike {
    const timeout = settings.queryTimeoutMillis;
    const pool = new pg.Pool({
      ...settings.config,
      max: settings.poolSize,
      connectionTimeoutMillis: settings.connectTimeoutMillis,
      ...(serverTimeouts
        ? {
            statement_timeout: timeout,
            lock_timeout: lockTimeoutOf(timeout),
            query_timeout: timeout + clientGraceOf(timeout),
          }
        : { query_timeout: timeout }),
      keepAlive: true,
      allowExitOnIdle: true,
    });
    pool.on('error', () => {});
    return pool as unknown as PgPoolLike;
  }

  async query<Row>(statement: Statement, values: readonly unknown[]): Promise<QueryResult<Row>> {
    const named = this.#prepared;
    const pool = this.#pool;
    try {
      return await this.#query<Row>(statement, values, named);
    } catch (error) {
      // Run again on a pool without them, made now or by a concurrent statement meanwhile.
      const replaced = pool !== this.#pool;
      if (this.#owned && isRefusedStartupParameter(error) && (replaced || this.#serverTimeouts)) {
        if (!replaced) await this.#withoutServerTimeouts();
        return this.query<Row>(statement, values);
      }
      // A transaction pooler (PgBouncer before 1.21) moves us between server connections,
      // where our named statements do not exist, or exist already: go on without names.
      // (The statement did not run: it failed at Parse or Bind.) Decided by this attempt,
      // not the flag: a concurrent statement may have turned names off meanwhile.
      const code = (error as { code?: unknown }).code;
      if (!named || (code !== '26000' && code !== '42P05')) throw error;
      this.#prepared = false;
      return this.#query<Row>(statement, values, false);
    }
  }

  async #query<Row>(
    statement: Statement,
    values: readonly unknown[],
    named: boolean,
  ): Promise<QueryResult<Row>> {
    const result = await this.#pool.query({
      ...(named ? { name: statement.name } : {}),
      text: statement.text,
      values: [...values],
      types,
    });
    return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
  }

  async exec(script: string): Promise<void> {
    await this.#pool.query({ text: script });
  }

  async transaction<T>(work: (transaction: Transaction) => Promise<T>): Promise<T> {
    const pool = this.#pool;
    if (!pool.connect) {
      throw new SessionPgsqlError(
        ErrorCodes.INVALID_OPTION,
        'the pg Pool given as "db" has no connect(): a transaction needs one connection held from it',
      );
    }
    const client = await pool.connect();
    const run = async <Row>(text: string, values: readonly unknown[] = []) => {
      const result = await client.query({ text, values: [...values], types });
      return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
    };
    let broken: Error | undefined;
    try {
      await run('BEGIN');
      const result = await work({ query: (statement, values) => run(statement.text, values) });
      await run('COMMIT');
      return result;
    } catch (error) {
      // A connection whose ROLLBACK failed is in an unknown state: it is not reused.
      await run('ROLLBACK').catch((rollback: unknown) => {
        broken = rollback instanceof Error ? rollback : new Error(String(rollback));
      });
      throw error;
    } finally {
      client.release(broken ?? false);
    }
  }

  async #withoutServerTimeouts(): Promise<void> {
    this.#serverTimeouts = false;
    process.emitWarning(
      'the connection refused statement_timeout and lock_timeout (a pooler such as PgBouncer): a statement that timed out is not ended by the server unless the role sets statement_timeout',
      { code: 'SPG_NO_SERVER_TIMEOUTS' },
    );
    await this.reset();
  }

  async reset(): Promise<void> {
    if (!this.#owned) return;
    const old = this.#pool;
    this.#pool = PgDatabase.#createPool(this.#owned, this.#serverTimeouts);
    await old.end().catch(() => {});
  }

  async close(): Promise<void> {
    if (this.#owned) await this.#pool.end();
  }
}
