import { rows, type SqlStatement, sql } from './statement.js';
import { createExpireIndexStatement, createTableStatements, lockTableStatement } from './table.js';
import { quoteIdentifier, type TableName } from './table-name.js';
import { TABLE_SHAPE, type TableShapeRow } from './table-shape.js';

/**
 * The order that picks, among rows sharing a `sess_id` (possible in a table without a
 * primary key: two first requests of one session both inserted), the one to keep: the last
 * written (`sess_modified`), then the one expiring last, then the most accessed; rows equal
 * in all three are told apart by their whole text, so that the choice never depends on
 * where rows happen to lie on disk.
 */
const NEWEST_FIRST = `sess_modified DESC NULLS LAST, sess_expire DESC NULLS LAST,
  sess_counter DESC NULLS LAST, s::text COLLATE "C" DESC`;

/** The statements of `upgradeTable`, run in this order inside one transaction. */
export function upgradeStatements(table: TableName) {
  const t = table.quoted;
  const statement = (kind: string, text: string): SqlStatement<never, never> =>
    sql(kind, [], () => text);
  return {
    lock: statement('upgrade_lock', lockTableStatement(table)),
    shape: sql('upgrade_shape', ['table'], (p) => TABLE_SHAPE(p.table), rows<TableShapeRow>()),
    /** Makes the lock waits below give up after `lockTimeout` (milliseconds, bound as text). */
    lockTimeout: sql(
      'upgrade_lock_timeout',
      ['millis'],
      (p) => `SELECT set_config('lock_timeout', ${p.millis}::text, true)`,
    ),
    /** Taken first, so that nothing else waits behind a half-done upgrade. */
    lockTable: statement('upgrade_lock_table', `LOCK TABLE ${t} IN ACCESS EXCLUSIVE MODE`),
    create: createTableStatements(table).map((text, i) => statement(`upgrade_create_${i}`, text)),
    /** A row without an id cannot be read by any id: it is no session. */
    deleteNullIds: statement('upgrade_null_ids', `DELETE FROM ${t} WHERE sess_id IS NULL`),
    deleteDuplicates: statement(
      'upgrade_duplicates',
      `DELETE FROM ${t} WHERE ctid IN (SELECT ctid FROM (
  SELECT ctid, row_number() OVER (PARTITION BY sess_id ORDER BY ${NEWEST_FIRST}) AS rank
  FROM ${t} AS s) ranked WHERE rank > 1)`,
    ),
    addPrimaryKey: statement('upgrade_primary_key', `ALTER TABLE ${t} ADD PRIMARY KEY (sess_id)`),
    /** One ALTER TABLE for every column: the table is rewritten once. */
    widen: (columns: readonly string[]) =>
      statement(
        'upgrade_widen',
        `ALTER TABLE ${t} ${columns.map((c) => `ALTER COLUMN ${quoteIdentifier(c)} TYPE bigint`).join(', ')}`,
      ),
    createExpireIndex: statement('upgrade_expire_index', createExpireIndexStatement(table)),
    count: sql(
      'upgrade_count',
      [],
      () => `SELECT count(*)::int AS count FROM ${t} WHERE sess_id NOT LIKE '!%'`,
      rows<{ count: number }>(),
    ),
  };
}
