import { TOMBSTONE_NAME } from './bookkeeping-statements.js';
import { NOW, rows, sql } from './statement.js';
import type { TableName } from './table-name.js';

/** A row of connect-pg-simple's table, with its expiry in Unix seconds. */
export interface ConnectPgSimpleRow {
  readonly sid: string;
  /** `sess` as text (connect-pg-simple's column is `json`). */
  readonly sess: string;
  /** `expire` in Unix seconds, by the source database. */
  readonly expire: number;
  /** `expire` has passed by the source database's clock (connect-pg-simple would not read it). */
  readonly expired: boolean;
}

/**
 * Reads connect-pg-simple's table (`sid`, `sess` json, `expire` timestamp) by keyset
 * pagination on its primary key. `expire` is a `timestamp` without time zone written by
 * `to_timestamp()` in the connection's TimeZone, so it is read back in the same one
 * (`::timestamptz`) before it becomes epoch seconds. Two statements rather than
 * `$1 IS NULL OR sid > $1`, so that a prepared plan always walks the index.
 */
export function connectPgSimpleStatements(table: TableName) {
  const t = table.quoted;
  const columns = `sid::text AS sid, sess::text AS sess,
  floor(extract(epoch FROM expire::timestamptz))::bigint AS expire, expire::timestamptz < now() AS expired`;
  return {
    exists: sql(
      'cps_exists',
      ['table'],
      (p) => `SELECT to_regclass(${p.table}::text) IS NOT NULL AS exists`,
      rows<{ exists: boolean }>(),
    ),
    first: sql(
      'cps_first',
      ['limit'],
      (p) => `SELECT ${columns} FROM ${t} ORDER BY sid LIMIT ${p.limit}::int`,
      rows<ConnectPgSimpleRow>(),
    ),
    next: sql(
      'cps_next',
      ['after', 'limit'],
      (p) =>
        `SELECT ${columns} FROM ${t} WHERE sid > ${p.after} ORDER BY sid LIMIT ${p.limit}::int`,
      rows<ConnectPgSimpleRow>(),
    ),
  };
}

/**
 * Writes imported sessions (`keys`, serialized `data`, `expires` in Unix seconds, arrays of
 * one length) into the store's table, with an access counter of 0: no request has used
 * them through session-pgsql yet. A key the table holds already is replaced only when its
 * row has expired, or when session-pgsql never wrote or touched it since it was imported
 * (its counter is still 0) and the old application changed it since (other data or
 * expiry). So running an import again changes nothing, takes what the old application
 * wrote meanwhile, and never overwrites a session that session-pgsql wrote, touched, or
 * recorded as destroyed during a failover. A row replaced after its own expiry starts anew.
 */
export function importSessionsStatement(table: TableName) {
  const t = table.quoted;
  const dead = `coalesce(s.sess_expire, 0) < ${NOW}`;
  const keepUnless = (column: string, fresh: string) =>
    `${column} = CASE WHEN ${dead} THEN ${fresh} ELSE s.${column} END`;
  return sql(
    'import_sessions',
    ['name', 'keys', 'data', 'expires'],
    (
      p,
    ) => `INSERT INTO ${t} AS s (sess_id, sess_name, sess_data, sess_created, sess_modified, sess_expire,
  sess_counter, sess_error, sess_warning, sess_notice)
SELECT i.key, ${p.name}::text, i.data, ${NOW}, ${NOW}, i.expire, 0, 0, 0, 0
FROM unnest(${p.keys}::text[], ${p.data}::text[], ${p.expires}::bigint[]) AS i(key, data, expire)
ON CONFLICT (sess_id) DO UPDATE SET sess_name = excluded.sess_name, sess_data = excluded.sess_data,
  sess_modified = excluded.sess_modified, sess_expire = excluded.sess_expire,
  ${keepUnless('sess_created', 'excluded.sess_created')},
  ${keepUnless('sess_counter', '0')},
  ${keepUnless('sess_error', '0')}, ${keepUnless('sess_warning', '0')}, ${keepUnless('sess_notice', '0')},
  ${keepUnless('sess_err_message', 'NULL')}, ${keepUnless('sess_custom', 'NULL')},
  ${keepUnless('sess_addr_created', 'NULL')}, ${keepUnless('sess_addr_modified', 'NULL')}
WHERE s.sess_name IS DISTINCT FROM '${TOMBSTONE_NAME}' AND (${dead} OR (s.sess_counter = 0
  AND (s.sess_data IS DISTINCT FROM excluded.sess_data OR s.sess_expire IS DISTINCT FROM excluded.sess_expire)))`,
  );
}
