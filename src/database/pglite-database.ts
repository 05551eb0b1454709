import type { PGlite } from '@electric-sql/pglite';
import type { Database, QueryResult, Statement } from './database.js';
import { INT8_OID, parseInt8 } from './int8.js';

/**
 * The embedded PostgreSQL (PGlite, WebAssembly) kept in a local folder: for
 * development and the example app. One process at a time may open a folder.
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

  async reset(): Promise<void> {}

  async close(): Promise<void> {
    const db = this.#db;
    this.#db = undefined;
    if (db) await (await db).close();
  }
}
