/**
 * session_pgsql's table and rows, written with the SQL the PHP extension ran (its C source,
 * `php_ps_pgsql_create_table` and `ps_pgsql_sess_write`), for tests that bring such a
 * table over: the DDL before 1.0.1 (no primary key: a plain index on sess_id) or from
 * 1.0.1 (with one), 32-bit `integer` times taken from the web server's clock.
 */
import pg from 'pg';

/** Something that runs SQL: a pg Pool or Client. */
export interface Queryable {
  query(text: string, values?: unknown[]): Promise<{ rowCount: number | null }>;
}

const quote = (table: string) => pg.escapeIdentifier(table);

/**
 * Creates `table` as session_pgsql did. `primaryKey: false` (before 1.0.1): no constraint,
 * and the extension's `CREATE INDEX php_session_idx ... USING BTREE (sess_id)`, which is not
 * unique. `primaryKey: true`: the README's DDL of 1.0.1 (`sess_id text PRIMARY KEY`).
 */
export async function createSessionPgsqlTable(
  db: Queryable,
  table: string,
  options: { primaryKey: boolean },
): Promise<void> {
  await db.query(`CREATE TABLE ${quote(table)} (
    sess_id            text${options.primaryKey ? ' PRIMARY KEY' : ''},
    sess_name          text,
    sess_data          text,
    sess_created       integer,
    sess_modified      integer,
    sess_expire        integer,
    sess_addr_created  text,
    sess_addr_modified text,
    sess_counter       integer,
    sess_error         integer,
    sess_warning       integer,
    sess_notice        integer,
    sess_err_message   text,
    sess_custom        text)`);
  if (!options.primaryKey) {
    await db.query(
      `CREATE INDEX ${quote(`${table}_idx`)} ON ${quote(table)} USING BTREE (sess_id)`,
    );
  }
}

export interface SessionPgsqlWrite {
  readonly id: string;
  /** `sess_data`: PHP's serialized `$_SESSION`. */
  readonly data: string;
  /** When the web server wrote it, in seconds before now (its clock). Default 0. */
  readonly secondsAgo?: number;
  /** When the web server wrote it, in Unix seconds (instead of `secondsAgo`). */
  readonly writtenAt?: number;
  /** `session.gc_maxlifetime`. Default 1440. */
  readonly lifetime?: number;
  readonly name?: string;
  readonly address?: string;
  readonly custom?: string;
}

/** The web server's clock in Unix seconds, as `time(NULL)`. */
const now = () => Math.floor(Date.now() / 1000);

/**
 * A new session as `ps_pgsql_sess_write` inserted it: created = modified = now,
 * expire = now + gc_maxlifetime, counter 1, error counters 0. Two first requests of one
 * session that both found no row both ran this: the id is then stored twice.
 */
export async function insertAsSessionPgsql(
  db: Queryable,
  table: string,
  write: SessionPgsqlWrite,
): Promise<void> {
  const at = write.writtenAt ?? now() - (write.secondsAgo ?? 0);
  await db.query(
    `INSERT INTO ${quote(table)} (sess_id, sess_name, sess_created, sess_addr_created, sess_modified,
      sess_expire, sess_data, sess_counter, sess_error, sess_warning, sess_notice, sess_custom)
     VALUES ($1, $2, $3, $4, $3, $5, $6, 1, 0, 0, 0, $7)`,
    [
      write.id,
      write.name ?? 'PHPSESSID',
      at,
      write.address ?? '203.0.113.5',
      at + (write.lifetime ?? 1440),
      write.data,
      write.custom ?? '',
    ],
  );
}

/**
 * An existing session as `ps_pgsql_sess_write` updated it: data, modified, modifying
 * address, expire and the counter read and incremented by PHP (every row of that id).
 */
export async function updateAsSessionPgsql(
  db: Queryable,
  table: string,
  write: SessionPgsqlWrite & { readonly counter: number },
): Promise<void> {
  const at = write.writtenAt ?? now() - (write.secondsAgo ?? 0);
  await db.query(
    `UPDATE ${quote(table)} SET sess_data = $2, sess_modified = $3, sess_addr_modified = $4,
      sess_expire = $5, sess_counter = $6, sess_error = 0, sess_warning = 0, sess_notice = 0
     WHERE sess_id = $1`,
    [
      write.id,
      write.data,
      at,
      write.address ?? '203.0.113.5',
      at + (write.lifetime ?? 1440),
      write.counter,
    ],
  );
}

/** A PHP-serialized `$_SESSION` with one string entry, as session_pgsql stored it. */
export function phpSession(key: string, value: string): string {
  return `${key}|s:${Buffer.byteLength(value)}:"${value}";`;
}

/** Stores `sess_data` as is: session_pgsql's rows hold PHP's format, read here as text. */
export const textSerializer = Object.freeze({
  stringify: (data: string) => data,
  parse: (text: string) => text,
});
