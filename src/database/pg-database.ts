import pg from 'pg';
import type { Database, QueryResult, Statement } from './database.js';

/**
 * The part of a `pg` Pool the store uses, typed by its shape so that any
 * compatible pool (pg, pg-pool, a wrapper) can be passed in.
 */
export interface PgPoolLike {
  query(config: { name?: string; text: string; values?: unknown[] }): Promise<{
    rows: unknown[];
    rowCount: number | null;
  }>;
  end(): Promise<void>;
  on(event: 'error', listener: (error: Error) => void): unknown;
}

export interface PgDatabaseSettings {
  readonly config: pg.PoolConfig;
  readonly poolSize: number;
  readonly connectTimeoutMillis: number;
  readonly queryTimeoutMillis: number;
  readonly preparedStatements: boolean;
}

/** A server reached through node-postgres: either a pool we own or the user's own. */
export class PgDatabase implements Database {
  #pool: PgPoolLike;
  readonly #owned: PgDatabaseSettings | undefined;
  readonly #prepared: boolean;

  private constructor(pool: PgPoolLike, owned: PgDatabaseSettings | undefined, prepared: boolean) {
    this.#pool = pool;
    this.#owned = owned;
    this.#prepared = prepared;
  }

  /** Opens a pool of our own, which `reset()` may replace and `close()` ends. */
  static open(settings: PgDatabaseSettings): PgDatabase {
    return new PgDatabase(PgDatabase.#createPool(settings), settings, settings.preparedStatements);
  }

  /** Wraps the user's pool: we never end or replace it. */
  static wrap(pool: PgPoolLike, preparedStatements: boolean): PgDatabase {
    // A server restart makes idle clients emit 'error' on the pool; unhandled, it kills the process.
    pool.on('error', () => {});
    return new PgDatabase(pool, undefined, preparedStatements);
  }

  static #createPool(settings: PgDatabaseSettings): PgPoolLike {
    const pool = new pg.Pool({
      ...settings.config,
      max: settings.poolSize,
      connectionTimeoutMillis: settings.connectTimeoutMillis,
      query_timeout: settings.queryTimeoutMillis,
      keepAlive: true,
      allowExitOnIdle: true,
    });
    pool.on('error', () => {});
    return pool as unknown as PgPoolLike;
  }

  async query<Row>(statement: Statement, values: readonly unknown[]): Promise<QueryResult<Row>> {
    const result = await this.#pool.query({
      ...(this.#prepared ? { name: statement.name } : {}),
      text: statement.text,
      values: [...values],
    });
    return { rows: result.rows as Row[], rowCount: result.rowCount ?? 0 };
  }

  async exec(script: string): Promise<void> {
    await this.#pool.query({ text: script });
  }

  async reset(): Promise<void> {
    if (!this.#owned) return;
    const old = this.#pool;
    this.#pool = PgDatabase.#createPool(this.#owned);
    await old.end().catch(() => {});
  }

  async close(): Promise<void> {
    if (this.#owned) await this.#pool.end();
  }
}
