/**
 * Direct SQL on a test database, to check what a store really wrote in PostgreSQL whatever
 * the framework: rows, expiry moves by the database's clock, and a trigger that counts the
 * statements writing to the session table; and the store's own statement counts.
 */
import pg from 'pg';
import type { StoreStatus } from '../../src/index.js';
import { type StoredRow as SessionRow, storedKey } from './stored-row.js';

export { type StoredRow as SessionRow, storedKey } from './stored-row.js';

/** The statement kinds of `status().servers[].statements` that write to the table. */
const WRITE_KINDS = ['write', 'update', 'touch', 'destroy', 'clear', 'gcClaim', 'gcDelete'];

/** Direct SQL on the test database, to check what the store wrote. */
export class Sql {
  readonly pool: pg.Pool;

  constructor(url: string) {
    this.pool = new pg.Pool({ connectionString: url, max: 2 });
    this.pool.on('error', () => {});
  }

  async query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    return (await this.pool.query<R>(text, values)).rows;
  }

  /** The row of a session id (by its stored key), or undefined. */
  async row(table: string, id: string): Promise<SessionRow | undefined> {
    const rows = await this.query<SessionRow>(
      `SELECT sess_id, sess_name, sess_data, sess_created::float8 AS sess_created,
        sess_modified::float8 AS sess_modified, sess_expire::float8 AS sess_expire,
        sess_addr_created, sess_addr_modified, sess_counter, sess_error, sess_warning,
        sess_notice, sess_err_message, sess_custom
      FROM ${pg.escapeIdentifier(table)} WHERE sess_id = $1`,
      [storedKey(id)],
    );
    return rows[0];
  }

  /** Like `row`, but fails when there is none. */
  async mustRow(table: string, id: string): Promise<SessionRow> {
    const row = await this.row(table, id);
    if (!row) throw new Error(`no row in ${table} for session ${id}`);
    return row;
  }

  /** The stored data of a session id, parsed. */
  async data(table: string, id: string): Promise<Record<string, unknown>> {
    const raw = (await this.mustRow(table, id)).sess_data;
    if (raw === null) throw new Error(`session ${id} has no data`);
    return JSON.parse(raw) as Record<string, unknown>;
  }

  /** Session rows (the GC marker row aside). */
  async count(table: string): Promise<number> {
    const rows = await this.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${pg.escapeIdentifier(table)} WHERE sess_id <> '!gc'`,
    );
    return rows[0]?.n ?? 0;
  }

  /** The database's clock, Unix seconds. */
  async now(): Promise<number> {
    const rows = await this.query<{ now: number }>(
      'SELECT extract(epoch from now())::float8 AS now',
    );
    return rows[0]?.now ?? Number.NaN;
  }

  /** Moves a session's expiry (and modification time) by `seconds` (negative: earlier). */
  async shiftExpiry(table: string, id: string, seconds: number): Promise<void> {
    await this.query(
      `UPDATE ${pg.escapeIdentifier(table)} SET sess_expire = sess_expire + $2::bigint,
        sess_modified = sess_modified + $2::bigint WHERE sess_id = $1`,
      [storedKey(id), seconds],
    );
  }

  /** Sets a session's expiry to `seconds` from the database's now (negative: expired). */
  async expireIn(table: string, id: string, seconds: number): Promise<void> {
    await this.query(
      `UPDATE ${pg.escapeIdentifier(table)}
        SET sess_expire = floor(extract(epoch from now()))::bigint + $2::bigint WHERE sess_id = $1`,
      [storedKey(id), seconds],
    );
  }

  /**
   * Counts the statements that write to `table`, in PostgreSQL itself: a statement-level
   * trigger logs each writing statement's transaction id (an INSERT ... ON CONFLICT DO UPDATE
   * fires both INSERT and UPDATE triggers, so distinct transactions are counted).
   */
  async countWrites(table: string): Promise<WriteCounter> {
    const log = pg.escapeIdentifier(`${table}_writes`);
    const fn = pg.escapeIdentifier(`${table}_log_write`);
    await this.query(`CREATE TABLE ${log} (xid xid8 NOT NULL, op text NOT NULL)`);
    await this.query(`CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO ${log} VALUES (pg_current_xact_id(), TG_OP); RETURN NULL; END $$`);
    await this.query(`CREATE TRIGGER ${pg.escapeIdentifier(`${table}_count_writes`)}
      AFTER INSERT OR UPDATE OR DELETE ON ${pg.escapeIdentifier(table)}
      FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`);
    return {
      count: async () => {
        const rows = await this.query<{ n: number }>(
          `SELECT count(DISTINCT xid::text)::int AS n FROM ${log}`,
        );
        return rows[0]?.n ?? 0;
      },
    };
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

export interface WriteCounter {
  /** Writing statements run on the table since the trigger was installed. */
  count(): Promise<number>;
}

/** Any adapter's store: its core reports what it ran. */
export interface StoreWithCore {
  readonly core: { status(): Promise<StoreStatus> };
}

/** Statements the store ran, by kind, as its `status()` reports them. */
export async function statementCounts(store: StoreWithCore): Promise<Record<string, number>> {
  const status = await store.core.status();
  return { ...status.servers[0]?.statements };
}

/** Writing statements the store ran, as its `status()` reports them. */
export async function storeWrites(store: StoreWithCore): Promise<number> {
  const counts = await statementCounts(store);
  return WRITE_KINDS.reduce((sum, kind) => sum + (counts[kind] ?? 0), 0);
}

/** `actual` within `tolerance` of `expected` (a value check on seconds, not a timing assertion). */
export function assertNear(
  actual: number,
  expected: number,
  tolerance: number,
  what: string,
): void {
  if (!(Math.abs(actual - expected) <= tolerance)) {
    throw new Error(`${what}: expected ${expected} ± ${tolerance}, got ${actual}`);
  }
}
