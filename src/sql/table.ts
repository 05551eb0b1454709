import type { Database } from '../database/database.js';
import { databaseError, ErrorCodes, SessionPgsqlError } from '../errors.js';
import { bind } from './statement.js';
import type { Statements } from './statements.js';
import { quoteIdentifier, type TableName } from './table-name.js';
import { checkTableShape, type TableShapeRow } from './table-shape.js';

/**
 * The table of session_pgsql with 64-bit times. A table that session_pgsql created
 * (integer times) works as is: the store's SQL is valid for both.
 */
export function createTableScript(table: TableName): string {
  return tableScript(table.quoted, quoteIdentifier(indexName(table)), lockKey(table.quoted));
}

/**
 * The script of `createTableScript` for a quoted table, quoted index and lock key (the PHP
 * session handler's copy, php/src/Statements.php, is generated from it).
 */
export function tableScript(
  quotedTable: string,
  quotedIndex: string,
  lock: number | string,
): string {
  // One simple query runs as one implicit transaction (rolled back whole on error),
  // serialized by an advisory lock held until it ends, so that several processes
  // starting at once on an empty database do not collide.
  return [lockStatement(lock), ...tableStatements(quotedTable, quotedIndex)]
    .join(';\n')
    .concat(';');
}

/** Waits for the transaction-scoped lock that serializes creating and upgrading one table. */
export function lockTableStatement(table: TableName): string {
  return lockStatement(lockKey(table.quoted));
}

/** The table, then its expiry index, each created only when missing. */
export function createTableStatements(table: TableName): string[] {
  return tableStatements(table.quoted, quoteIdentifier(indexName(table)));
}

export function createExpireIndexStatement(table: TableName): string {
  return expireIndexStatement(table.quoted, quoteIdentifier(indexName(table)));
}

const lockStatement = (lock: number | string) => `SELECT pg_advisory_xact_lock(${lock})`;

const expireIndexStatement = (quotedTable: string, quotedIndex: string) =>
  `CREATE INDEX IF NOT EXISTS ${quotedIndex} ON ${quotedTable} (sess_expire)`;

function tableStatements(quotedTable: string, quotedIndex: string): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${quotedTable} (
  sess_id            text PRIMARY KEY,
  sess_name          text,
  sess_data          text,
  sess_created       bigint,
  sess_modified      bigint,
  sess_expire        bigint,
  sess_addr_created  text,
  sess_addr_modified text,
  sess_counter       integer,
  sess_error         integer,
  sess_warning       integer,
  sess_notice        integer,
  sess_err_message   text,
  sess_custom        text
)`,
    expireIndexStatement(quotedTable, quotedIndex),
  ];
}

/**
 * The expiry index's name: the table's name when it fits in PostgreSQL's 63 bytes, else its
 * start and a hash of the whole (two long names sharing a start get an index each).
 */
export function indexName(table: TableName): string {
  const name = `${table.name}_expire_idx`;
  if (Buffer.byteLength(name) <= 63) return name;
  const hash = lockKey(table.quoted).toString(36);
  const start = [...table.name]; // by code point: never half a character
  while (Buffer.byteLength(`${start.join('')}_${hash}_expire_idx`) > 63) start.pop();
  return `${start.join('')}_${hash}_expire_idx`;
}

/** A stable 31-bit key for the advisory lock that serializes creation (and upgrades) of one table. */
export function lockKey(name: string): number {
  let hash = 0x5e55;
  for (const char of name) hash = (Math.imul(hash, 31) + (char.codePointAt(0) ?? 0)) | 0;
  return hash & 0x7fffffff;
}

/**
 * Makes sure the table exists and can take the store's writes: looks it up in the catalog
 * and, when missing and `createTable` is on, creates it. A role that only has SELECT,
 * INSERT, UPDATE and DELETE on an existing table never runs DDL. A table without a primary
 * key on `sess_id` (session_pgsql before 1.0.1) is refused with SPG_TABLE_UPGRADE_NEEDED;
 * one with 32-bit times works, with the warning SPG_TABLE_INTEGER_TIMES.
 */
export async function ensureTable(
  database: Database,
  statements: Statements,
  table: TableName,
  createTable: boolean,
): Promise<void> {
  let shape: TableShapeRow | undefined;
  try {
    const { tableShape } = statements;
    const { rows } = await database.query<TableShapeRow>(
      tableShape,
      bind(tableShape, { table: table.quoted }),
    );
    shape = rows[0];
  } catch (cause) {
    throw databaseError(cause, `look up the session table ${table.display}`);
  }
  if (shape?.exists) return checkTableShape(shape, table);
  if (!createTable) {
    throw new SessionPgsqlError(
      ErrorCodes.TABLE_SETUP_FAILED,
      `the session table ${table.display} does not exist and createTable is false`,
    );
  }
  try {
    await database.exec(createTableScript(table));
  } catch (cause) {
    const wrapped = databaseError(cause, `create the session table ${table.display}`);
    if (wrapped.code === ErrorCodes.DB_UNREACHABLE) throw wrapped;
    throw new SessionPgsqlError(ErrorCodes.TABLE_SETUP_FAILED, wrapped.message, { cause });
  }
}
