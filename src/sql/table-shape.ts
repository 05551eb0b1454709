import { ErrorCodes, SessionPgsqlError } from '../errors.js';
import type { TableName } from './table-name.js';

/** The time columns session_pgsql created as 32-bit `integer`. */
export const TIME_COLUMNS = ['sess_created', 'sess_modified', 'sess_expire'] as const;

/** Warning code of a table whose times are 32-bit integers (they overflow in 2038). */
export const INTEGER_TIMES_WARNING = 'SPG_TABLE_INTEGER_TIMES';

/**
 * What the store needs to know of an existing table, from the catalog (readable by any
 * role): whether it exists, whether `sess_id` has the unique index that `ON CONFLICT
 * (sess_id)` needs (session_pgsql's DDL had none before 1.0.1), which times are still
 * 32-bit, whether garbage collection has an index on the expiry, and whether this role owns
 * the table (changing its definition needs that).
 */
export const TABLE_SHAPE = (table: string) => `WITH t AS (SELECT to_regclass(${table}::text) AS oid)
SELECT r.oid IS NOT NULL AS exists,
  coalesce(pg_has_role(r.relowner, 'USAGE'), false) AS owned, pg_get_userbyid(r.relowner)::text AS owner,
  current_user::text AS role,
  EXISTS (SELECT 1 FROM pg_index i
    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
    WHERE i.indrelid = r.oid AND a.attname = 'sess_id' AND i.indisunique AND i.indimmediate
      AND i.indisvalid AND i.indnkeyatts = 1 AND i.indpred IS NULL AND i.indexprs IS NULL) AS unique_id,
  ARRAY(SELECT a.attname::text FROM pg_attribute a
    WHERE a.attrelid = r.oid AND NOT a.attisdropped AND a.atttypid = 'integer'::regtype
      AND a.attname IN (${TIME_COLUMNS.map((c) => `'${c}'`).join(', ')})
    ORDER BY a.attnum) AS integer_times,
  EXISTS (SELECT 1 FROM pg_index i
    JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
    WHERE i.indrelid = r.oid AND a.attname = 'sess_expire' AND i.indisvalid) AS expire_index
FROM t LEFT JOIN pg_class r ON r.oid = t.oid`;

export interface TableShapeRow {
  readonly exists: boolean;
  readonly owned: boolean;
  /** The owning role's name; null when the table does not exist. */
  readonly owner: string | null;
  /** The role this connection runs as. */
  readonly role: string;
  readonly unique_id: boolean;
  readonly integer_times: string[];
  /** An index whose first column is `sess_expire` (garbage collection uses it). */
  readonly expire_index: boolean;
}

/**
 * Refuses a table without a unique `sess_id` (every write would fail with SQLSTATE 42P10),
 * and warns about 32-bit times, which keep working until 2038 (a session expiring later
 * cannot be written: integer out of range).
 */
export function checkTableShape(shape: TableShapeRow, table: TableName): void {
  const howTo =
    'upgrade it once as the table\'s owner with upgradeTable() or the SQL of the README ("Moving over from session_pgsql or connect-pg-simple")';
  if (!shape.unique_id) {
    throw new SessionPgsqlError(
      ErrorCodes.TABLE_UPGRADE_NEEDED,
      `the session table ${table.display} has no primary key on sess_id (session_pgsql created it so before 1.0.1), so no session can be written to it: ${howTo}; the table was left as it is`,
    );
  }
  if (shape.integer_times.length > 0) {
    process.emitWarning(
      `the session table ${table.display} keeps times in 32-bit integer columns (${shape.integer_times.join(', ')}): it works, but a session expiring after 2038-01-19 cannot be written to it; ${howTo}`,
      { code: INTEGER_TIMES_WARNING },
    );
  }
}
