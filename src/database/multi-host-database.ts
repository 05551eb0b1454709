import { databaseError, ErrorCodes, SessionPgsqlError } from '../errors.js';
import type { TargetSessionAttrs } from './conninfo.js';
import type { Database, QueryResult, Statement, Transaction } from './database.js';
import type { ListenConnection } from './listen-connection.js';
import { openListenConnection, PgDatabase, type PgDatabaseSettings } from './pg-database.js';

/** The statement that tells a primary from a standby. */
const ROLE_CHECK: Statement = Object.freeze({
  name: 'session_pgsql_role_check',
  text: 'SELECT pg_is_in_recovery() AS standby',
});

/** SQLSTATE of a write on a read-only server (a primary demoted to standby). */
const READ_ONLY_SQL_TRANSACTION = '25006';

function accepts(attrs: TargetSessionAttrs, standby: boolean): boolean {
  if (attrs === 'read-write' || attrs === 'primary') return !standby;
  if (attrs === 'read-only' || attrs === 'standby') return standby;
  return true;
}

/**
 * One server entry with several hosts, as libpq reads `host=a,b target_session_attrs=...`:
 * node-postgres has no multi-host support, so this finds the host that fits (the writable
 * one for `read-write`) by asking each in turn, keeps a pool to it, and looks again when it
 * stops answering or turns read-only: a promoted standby is followed without a restart.
 */
export class MultiHostDatabase implements Database {
  readonly #hosts: readonly PgDatabaseSettings[];
  readonly #attrs: TargetSessionAttrs;
  #current: Host | undefined;
  #finding: Promise<Host> | undefined;

  constructor(hosts: readonly PgDatabaseSettings[], attrs: TargetSessionAttrs) {
    this.#hosts = hosts;
    this.#attrs = attrs;
  }

  readonly listen = async (): Promise<ListenConnection> => {
    const { settings } = await this.#host();
    return openListenConnection(settings.config, settings.connectTimeoutMillis);
  };

  async query<Row>(statement: Statement, values: readonly unknown[]): Promise<QueryResult<Row>> {
    return this.#withHost((database) => database.query<Row>(statement, values));
  }

  async exec(script: string): Promise<void> {
    return this.#withHost((database) => database.exec(script));
  }

  /** A transaction that failed because its host went away runs again whole on the new one. */
  async transaction<T>(work: (transaction: Transaction) => Promise<T>): Promise<T> {
    return this.#withHost((database) => database.transaction(work));
  }

  async reset(): Promise<void> {
    await this.#drop();
  }

  async close(): Promise<void> {
    await this.#drop();
  }

  /** Runs on the current host; if it went away or turned read-only, finds the right host once more. */
  async #withHost<T>(run: (database: PgDatabase) => Promise<T>): Promise<T> {
    const host = await this.#host();
    try {
      return await this.#use(host, run);
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      const moved =
        code === READ_ONLY_SQL_TRANSACTION ||
        databaseError(error, 'run').code === ErrorCodes.DB_UNREACHABLE;
      if (!moved) throw error;
      await this.#drop(host);
      return this.#use(await this.#host(), run);
    }
  }

  /**
   * Runs on `host`, counting the statements in flight there: a host that was dropped
   * meanwhile is closed after its last one. (A pg Pool that is ending never serves the
   * requests waiting in its queue, nor fails them: they would wait for the connect timeout.)
   */
  async #use<T>(host: Host, run: (database: PgDatabase) => Promise<T>): Promise<T> {
    host.active += 1;
    try {
      return await run(host.database);
    } finally {
      host.active -= 1;
      if (host.dropped && host.active === 0) void host.database.close().catch(() => {});
    }
  }

  #host(): Promise<Host> {
    if (this.#current) return Promise.resolve(this.#current);
    this.#finding ??= this.#find().finally(() => {
      this.#finding = undefined;
    });
    return this.#finding;
  }

  async #find(): Promise<Host> {
    const failures: string[] = [];
    let fallback: Host | undefined;
    for (const settings of this.#hosts) {
      const database = PgDatabase.open(settings);
      try {
        const { rows } = await database.query<{ standby: boolean }>(ROLE_CHECK, []);
        const standby = rows[0]?.standby === true;
        if (accepts(this.#attrs, standby)) {
          await fallback?.database.close();
          this.#current = { database, settings, active: 0, dropped: false };
          return this.#current;
        }
        // prefer-standby takes a primary when no standby answers
        if (this.#attrs === 'prefer-standby' && !fallback) {
          fallback = { database, settings, active: 0, dropped: false };
          continue;
        }
        failures.push(`${hostLabel(settings)}: ${standby ? 'a standby' : 'a primary'}`);
      } catch (error) {
        failures.push(`${hostLabel(settings)}: ${(error as Error).message}`);
      }
      await database.close().catch(() => {});
    }
    if (fallback) {
      this.#current = fallback;
      return fallback;
    }
    throw new SessionPgsqlError(
      ErrorCodes.DB_UNREACHABLE,
      `no host accepts ${this.#attrs} connections (${failures.join('; ')})`,
    );
  }

  async #drop(host?: Host): Promise<void> {
    const current = this.#current;
    if (!current || (host && current !== host)) return;
    this.#current = undefined;
    current.dropped = true;
    if (current.active === 0) await current.database.close().catch(() => {});
  }
}

/** The host in use, with its statements in flight. */
interface Host {
  readonly database: PgDatabase;
  readonly settings: PgDatabaseSettings;
  active: number;
  dropped: boolean;
}

/** `host:port` of a host, for messages (the URL form keeps it in `connectionString`). */
function hostLabel(settings: PgDatabaseSettings): string {
  const { host, port, connectionString } = settings.config;
  if (host !== undefined) return port === undefined ? host : `${host}:${port}`;
  try {
    return new URL(connectionString ?? '').host || 'a host';
  } catch {
    return 'a host';
  }
}
