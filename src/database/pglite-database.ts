import type { PGlite } from '@electric-sql/pglite';
import { ErrorCodes, SessionPgsqlError } from '../errors.js';
import type { Database, QueryResult, Statement, Transaction } from './database.js';
import { INT8_OID, parseInt8 } from './int8.js';

/**
 * The embedded PostgreSQL (PGlite, WebAssembly) kept in a local folder: for
 * development and the example app. One process at a time may open a folder.
 * PGlite is an optional peer dependency, loaded on first use.
 */
export class PgliteDatabase implements Database {
  readonly #dataDir: string;
  readonly listen = undefined;
  #db: Promise<PGlite> | undefined;

  constructor(dataDir: string) {
    this.#dataDir = dataDir;
  }

  #open(): Promise<PGlite> {
    this.#db ??= import('@electric-sql/pglite')
      .catch((error: unknown) => {
        throw isPgliteMissing(error) ? pgliteUnavailable(error) : error;
      })
      .then(({ PGlite }) => PGlite.create(this.#dataDir))
      .catch((error: unknown) => {
        this.#db = undefined;
        throw error;
      });
    return this.#db;
  }

  async query<Row>(statement: Statement, values: readonly unknown[]): Promise<QueryResult<Row>> {
    const db = await this.#open();
    const result = await db.query<Row>(statement.text, [...values], {
      parsers: { [INT8_OID]: parseInt8 },
    });
    return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
  }

  async exec(script: string): Promise<void> {
    const db = await this.#open();
    await db.exec(script);
  }

  async transaction<T>(work: (transaction: Transaction) => Promise<T>): Promise<T> {
    const db = await this.#open();
    return db.transaction((tx) =>
      work({
        query: async <Row>(statement: Statement, values: readonly unknown[]) => {
          const result = await tx.query<Row>(statement.text, [...values], {
            parsers: { [INT8_OID]: parseInt8 },
          });
          return { rows: result.rows, rowCount: result.affectedRows ?? result.rows.length };
        },
      }),
    );
  }

  async reset(): Promise<void> {}

  async close(): Promise<void> {
    const db = this.#db;
    this.#db = undefined;
    if (db) await (await db).close();
  }
}

/**
 * True when loading PGlite failed because the package itself is not installed
 * (ERR_MODULE_NOT_FOUND from import(), MODULE_NOT_FOUND from the CommonJS build's
 * require()), not because of a file missing inside an installed copy.
 */
function isPgliteMissing(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return false;
  return /['"]@electric-sql\/pglite['"]/.test(error instanceof Error ? error.message : '');
}

function pgliteUnavailable(cause: unknown): SessionPgsqlError {
  return new SessionPgsqlError(
    ErrorCodes.EMBEDDED_UNAVAILABLE,
    'no "db" option was given and the embedded database needs @electric-sql/pglite, which ' +
      'is not installed: run "npm install -D @electric-sql/pglite" for development, or pass ' +
      '"db" (a connection string, URL or pg Pool)',
    { cause },
  );
}
