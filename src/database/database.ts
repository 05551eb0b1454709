import type { ListenConnection } from './listen-connection.js';

/** A named SQL statement; the name lets drivers prepare it once per connection. */
export interface Statement {
  readonly name: string;
  readonly text: string;
}

export interface QueryResult<Row> {
  readonly rows: Row[];
  readonly rowCount: number;
}

/** The statements of one transaction, all on one connection. */
export interface Transaction {
  query<Row>(statement: Statement, values: readonly unknown[]): Promise<QueryResult<Row>>;
}

/**
 * What the store needs of a PostgreSQL connection, whatever drives it
 * (a `pg` Pool, an embedded PGlite). Every method rejects with the driver's error.
 * 64-bit integer columns (`bigint`) come back as JavaScript numbers, whatever the driver.
 */
export interface Database {
  /** Runs one statement with bound parameters. */
  query<Row>(statement: Statement, values: readonly unknown[]): Promise<QueryResult<Row>>;
  /** Runs a parameterless script of several statements in one round trip (DDL). */
  exec(script: string): Promise<void>;
  /**
   * Runs `work` in one transaction on one connection (maintenance such as upgrading the
   * table): committed when `work` resolves, rolled back when it rejects.
   */
  transaction<T>(work: (transaction: Transaction) => Promise<T>): Promise<T>;
  /** Drops every connection; the next query opens new ones. */
  reset(): Promise<void>;
  /**
   * Opens a dedicated connection for LISTEN (cache invalidation); `undefined` when the
   * database lives in this process only (embedded), where no other process can write.
   */
  readonly listen: (() => Promise<ListenConnection>) | undefined;
  /** Releases every connection for good. */
  close(): Promise<void>;
}
