import { GC_MARKER_ID, TOMBSTONE_NAME } from './bookkeeping-statements.js';
import { SESSION_COLUMNS, TOUCH_PARAMS, WRITE_PARAMS } from './params.js';
import type { Keyed, MetadataRow, SessionRow } from './rows.js';
import { NOW, notify, notifying, rows, type StatementContext, sql } from './statement.js';

/**
 * The digest that compare-and-set compares, always computed by the database, on the text as
 * it stores it: a digest computed in Node would differ for non-ASCII data whenever the
 * database's encoding is not UTF8.
 */
const DATA_MD5 = 'md5(sess_data)';

/** The statements that read and write sessions. */
export function sessionStatements(c: StatementContext) {
  const { t, keepExpired } = c;
  const live = `sess_expire >= ${NOW} AND sess_id NOT LIKE '!%' AND sess_data IS NOT NULL`;
  // A row that had expired when written again starts a new session, unless keepExpired.
  const restart = `(s.sess_name = '${TOMBSTONE_NAME}'${keepExpired ? '' : ' OR s.sess_expire < excluded.sess_modified'})`;
  const counter = (column: string) =>
    `${column} = CASE WHEN ${restart} THEN excluded.${column} ELSE coalesce(s.${column}, 0) + excluded.${column} END`;
  const visible = (column: string) =>
    keepExpired ? column : `CASE WHEN sess_expire >= ${NOW} THEN ${column} END`;
  const readColumns = `${visible('sess_data')} AS sess_data, ${visible(DATA_MD5)} AS sess_md5,
  sess_expire < ${NOW} AS expired, ${SESSION_COLUMNS}, ${NOW} AS now`;
  /** What a write returns: the metadata, and the digest of the data as stored. */
  const written = `${SESSION_COLUMNS}, ${DATA_MD5} AS sess_md5`;
  return {
    read: sql(
      'read',
      ['key'],
      (p) => `SELECT ${readColumns} FROM ${t} WHERE sess_id = ${p.key}`,
      rows<SessionRow>(),
    ),
    // Several sessions in one round trip (the reads of one turn of the event loop).
    readMany: sql(
      'read_many',
      ['keys'],
      (p) => `SELECT sess_id, ${readColumns} FROM ${t} WHERE sess_id = ANY(${p.keys}::text[])`,
      rows<Keyed<SessionRow>>(),
    ),
    // A new session, or one that was not read.
    write: sql(
      'write',
      notifying(c, WRITE_PARAMS),
      (
        p,
      ) => `INSERT INTO ${t} AS s (sess_id, sess_name, sess_data, sess_created, sess_modified, sess_expire,
  sess_addr_created, sess_addr_modified, sess_counter, sess_error, sess_warning, sess_notice, sess_err_message, sess_custom)
VALUES (${p.key}::text, ${p.name}::text, ${p.data}::text, ${NOW}, ${NOW}, ${NOW} + ${p.lifetime}::bigint,
  ${p.address}::text, ${p.address}::text, 1, ${p.error}::int, ${p.warning}::int, ${p.notice}::int,
  ${p.message}::text, ${p.custom}::text)
ON CONFLICT (sess_id) DO UPDATE SET
  sess_name = excluded.sess_name,
  sess_data = excluded.sess_data,
  sess_modified = excluded.sess_modified,
  sess_expire = excluded.sess_expire,
  sess_addr_modified = excluded.sess_addr_modified,
  sess_created = CASE WHEN ${restart} THEN excluded.sess_created ELSE s.sess_created END,
  sess_addr_created = CASE WHEN ${restart} THEN excluded.sess_addr_created ELSE s.sess_addr_created END,
  sess_counter = CASE WHEN ${restart} THEN 1 ELSE coalesce(s.sess_counter, 0) + 1 END,
  ${counter('sess_error')},
  ${counter('sess_warning')},
  ${counter('sess_notice')},
  sess_err_message = CASE WHEN ${restart} THEN excluded.sess_err_message
    ELSE coalesce(excluded.sess_err_message, s.sess_err_message) END,
  sess_custom = CASE WHEN ${restart} OR ${p.customSet}::boolean THEN excluded.sess_custom ELSE s.sess_custom END
RETURNING ${written}${notify(c, p, p.key)}`,
      rows<MetadataRow>(),
    ),
    // A session read by this request: updated only if it still holds what was read
    // (`expected`, its `sess_md5`; null overwrites whatever it holds) and has not expired
    // since. Never inserts: no row back means it was changed, expired or destroyed
    // meanwhile (the writer reads it again), and a destroyed session stays so.
    update: sql(
      'update',
      notifying(c, [...WRITE_PARAMS, 'expected']),
      (
        p,
      ) => `UPDATE ${t} AS s SET sess_name = ${p.name}::text, sess_data = ${p.data}::text, sess_modified = ${NOW},
  sess_expire = ${NOW} + ${p.lifetime}::bigint, sess_addr_modified = coalesce(${p.address}::text, s.sess_addr_modified),
  sess_counter = coalesce(s.sess_counter, 0) + 1, sess_error = coalesce(s.sess_error, 0) + ${p.error}::int,
  sess_warning = coalesce(s.sess_warning, 0) + ${p.warning}::int, sess_notice = coalesce(s.sess_notice, 0) + ${p.notice}::int,
  sess_err_message = coalesce(${p.message}::text, s.sess_err_message),
  sess_custom = CASE WHEN ${p.customSet}::boolean THEN ${p.custom}::text ELSE s.sess_custom END
WHERE sess_id = ${p.key} AND sess_data IS NOT NULL AND sess_expire >= ${NOW}
  AND (${p.expected}::text IS NULL OR md5(sess_data) = ${p.expected}::text)
RETURNING ${written}${notify(c, p, p.key)}`,
      rows<MetadataRow>(),
    ),
    // Several updates in one round trip: update's parameters, each an array (keys distinct
    // and sorted, so that rows are locked in one order).
    updateMany: sql(
      'update_many',
      notifying(c, [...WRITE_PARAMS, 'expected']),
      (p) => `UPDATE ${t} AS s SET sess_name = b.name, sess_data = b.data, sess_modified = ${NOW},
  sess_expire = ${NOW} + b.lifetime, sess_addr_modified = coalesce(b.address, s.sess_addr_modified),
  sess_counter = coalesce(s.sess_counter, 0) + 1, sess_error = coalesce(s.sess_error, 0) + b.error,
  sess_warning = coalesce(s.sess_warning, 0) + b.warning, sess_notice = coalesce(s.sess_notice, 0) + b.notice,
  sess_err_message = coalesce(b.message, s.sess_err_message),
  sess_custom = CASE WHEN b.custom_set THEN b.custom ELSE s.sess_custom END
FROM unnest(${p.key}::text[], ${p.name}::text[], ${p.data}::text[], ${p.lifetime}::bigint[],
  ${p.address}::text[], ${p.error}::int[], ${p.warning}::int[], ${p.notice}::int[], ${p.message}::text[],
  ${p.customSet}::boolean[], ${p.custom}::text[], ${p.expected}::text[])
  AS b(id, name, data, lifetime, address, error, warning, notice, message, custom_set, custom, expected)
WHERE s.sess_id = b.id AND s.sess_data IS NOT NULL AND s.sess_expire >= ${NOW}
  AND (b.expected IS NULL OR md5(s.sess_data) = b.expected)
RETURNING s.sess_id, ${written}${notify(c, p, 's.sess_id')}`,
      rows<Keyed<MetadataRow>>(),
    ),
    touch: sql(
      'touch',
      TOUCH_PARAMS,
      (p) => `UPDATE ${t} SET sess_expire = ${NOW} + ${p.lifetime}::bigint, sess_modified = ${NOW},
  sess_counter = coalesce(sess_counter, 0) + 1, sess_addr_modified = coalesce(${p.address}::text, sess_addr_modified)
WHERE sess_id = ${p.key} AND sess_expire >= ${NOW}
  AND (${p.skip}::bigint = 0 OR sess_expire < ${NOW} + ${p.lifetime}::bigint - ${p.skip}::bigint)`,
    ),
    // Several touches in one round trip: touch's parameters, each an array (keys distinct
    // and sorted, so that rows are locked in one order).
    touchMany: sql(
      'touch_many',
      TOUCH_PARAMS,
      (p) => `UPDATE ${t} AS s SET sess_expire = ${NOW} + b.lifetime, sess_modified = ${NOW},
  sess_counter = coalesce(s.sess_counter, 0) + 1, sess_addr_modified = coalesce(b.address, s.sess_addr_modified)
FROM unnest(${p.key}::text[], ${p.lifetime}::bigint[], ${p.skip}::bigint[], ${p.address}::text[])
  AS b(id, lifetime, skip, address)
WHERE s.sess_id = b.id AND s.sess_expire >= ${NOW}
  AND (b.skip = 0 OR s.sess_expire < ${NOW} + b.lifetime - b.skip)
RETURNING s.sess_id`,
      rows<{ sess_id: string }>(),
    ),
    destroy: sql(
      'destroy',
      notifying(c, ['key']),
      (p) =>
        `DELETE FROM ${t} WHERE sess_id = ${p.key}${c.channel ? ` RETURNING 1${notify(c, p, p.key)}` : ''}`,
    ),
    count: sql(
      'count',
      [],
      () => `SELECT count(*)::int AS count FROM ${t} WHERE ${live}`,
      rows<{ count: number }>(),
    ),
    list: sql(
      'list',
      [],
      () => `SELECT sess_id, sess_data FROM ${t} WHERE ${live} ORDER BY sess_id`,
      rows<{ sess_id: string; sess_data: string | null }>(),
    ),
    clear: sql('clear', [], () => `DELETE FROM ${t} WHERE sess_id <> '${GC_MARKER_ID}'`),
    // After clear(): every other process empties its cache.
    notifyAll: sql('notify_all', notifying(c, []), (p) =>
      c.channel ? `SELECT pg_notify('${c.channel}', ${p.instance}::text || ' *')` : 'SELECT 1',
    ),
  };
}
