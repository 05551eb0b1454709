import { ROW_PARAMS, SESSION_COLUMNS, VERSION_PARAMS, type VersionParam } from './params.js';
import { NOW, notify, notifying, rows, type StatementContext, sql } from './statement.js';
import { TABLE_SHAPE, type TableShapeRow } from './table-shape.js';

/** The row that marks the last garbage collection; never a valid session key. */
export const GC_MARKER_ID = '!gc';

/** `sess_name` of a row that records a destroy made while a server was down. */
export const TOMBSTONE_NAME = '!destroyed';

/** Marker rows that say "this server holds sessions whose home is server X". */
export const foreignMarkerId = (homeId: string) => `!foreign:${homeId}`;

/** How long failover bookkeeping (markers, tombstones) lives at most: 400 days. */
const BOOKKEEPING_SECONDS = 400 * 24 * 3600;

/**
 * The statements of the store's own bookkeeping: garbage collection (with its fleet-wide
 * claim), table setup, health checks, and failover (markers, tombstones, moving copies home).
 */
export function bookkeepingStatements(c: StatementContext) {
  const { t } = c;
  /** The row still holds the version seen (`seenDataMd5` null: the data is not compared). */
  const unchanged = (p: Readonly<Record<VersionParam, string>>, alias = '') =>
    `${alias}sess_modified IS NOT DISTINCT FROM ${p.seenModified}::bigint
  AND ${alias}sess_name IS NOT DISTINCT FROM ${p.seenName}::text
  AND ${alias}sess_counter IS NOT DISTINCT FROM ${p.seenCounter}::int
  AND ${alias}sess_expire IS NOT DISTINCT FROM ${p.seenExpire}::bigint
  AND (${p.seenDataMd5}::text IS NULL OR md5(${alias}sess_data) = ${p.seenDataMd5}::text)`;
  return {
    // Claims the collection for the whole fleet: only one caller per interval gets a row back.
    gcClaim: sql(
      'gc_claim',
      ['intervalSeconds'],
      (p) => `INSERT INTO ${t} AS s (sess_id, sess_name, sess_created, sess_modified, sess_expire,
  sess_counter, sess_error, sess_warning, sess_notice)
VALUES ('${GC_MARKER_ID}', 'session-pgsql garbage collection', ${NOW}, ${NOW}, ${NOW} + ${p.intervalSeconds}::bigint, 1, 0, 0, 0)
ON CONFLICT (sess_id) DO UPDATE SET sess_modified = excluded.sess_modified,
  sess_expire = excluded.sess_expire, sess_counter = coalesce(s.sess_counter, 0) + 1
WHERE s.sess_modified <= excluded.sess_modified - ${p.intervalSeconds}::bigint
RETURNING sess_counter`,
      rows<{ sess_counter: number }>(),
    ),
    // Collection in batches: up to `limit` expired keys (on the expiry index), then those rows.
    gcSelect: sql(
      'gc_select',
      ['limit'],
      (p) =>
        `SELECT sess_id FROM ${t} WHERE sess_expire < ${NOW} AND sess_id <> '${GC_MARKER_ID}' LIMIT ${p.limit}::int`,
      rows<{ sess_id: string }>(),
    ),
    gcDelete: sql(
      'gc_delete',
      ['keys'],
      (p) =>
        `DELETE FROM ${t} WHERE sess_id = ANY(${p.keys}::text[]) AND sess_expire < ${NOW} AND sess_id <> '${GC_MARKER_ID}'`,
    ),
    tableShape: sql('table_shape', ['table'], (p) => TABLE_SHAPE(p.table), rows<TableShapeRow>()),
    ping: sql('ping', [], () => 'SELECT 1'),
    // Failover bookkeeping: a marker row per home whose sessions this server holds.
    mark: sql(
      'mark',
      ['marker'],
      (p) => `INSERT INTO ${t} AS s (sess_id, sess_name, sess_created, sess_modified, sess_expire,
  sess_counter, sess_error, sess_warning, sess_notice)
VALUES (${p.marker}::text, 'session-pgsql failover marker', ${NOW}, ${NOW}, ${NOW} + ${BOOKKEEPING_SECONDS}, 0, 0, 0, 0)
ON CONFLICT (sess_id) DO UPDATE SET sess_modified = excluded.sess_modified, sess_expire = excluded.sess_expire`,
    ),
    markers: sql(
      'markers',
      ['markers'],
      (p) => `SELECT sess_id, sess_modified FROM ${t} WHERE sess_id = ANY(${p.markers}::text[])`,
      rows<{ sess_id: string; sess_modified: number }>(),
    ),
    // Removes a marker only if it was not set again since `seen` (Unix seconds); a marker
    // set again within the last second is kept: it may be newer than the one read.
    unmark: sql(
      'unmark',
      ['marker', 'seen'],
      (p) => `DELETE FROM ${t} WHERE sess_id = ${p.marker} AND sess_modified <= ${p.seen}::bigint
  AND sess_modified < ${NOW} - 1`,
    ),
    // A destroy while a server that may hold a copy is down.
    tombstone: sql(
      'tombstone',
      notifying(c, ['key']),
      (
        p,
      ) => `INSERT INTO ${t} AS s (sess_id, sess_name, sess_data, sess_created, sess_modified, sess_expire,
  sess_counter, sess_error, sess_warning, sess_notice)
VALUES (${p.key}::text, '${TOMBSTONE_NAME}', NULL, ${NOW}, ${NOW}, ${NOW} + ${BOOKKEEPING_SECONDS}, 0, 0, 0, 0)
ON CONFLICT (sess_id) DO UPDATE SET sess_name = excluded.sess_name, sess_data = NULL,
  sess_modified = excluded.sess_modified, sess_expire = excluded.sess_expire${c.channel ? ` RETURNING 1${notify(c, p, p.key)}` : ''}`,
    ),
    // Moves a copy home: the whole row as read elsewhere, only if the home still holds what
    // was read there (`existed`: it had a row, and the version columns): a change made
    // meanwhile is never overwritten.
    restore: sql(
      'restore',
      [...ROW_PARAMS, 'existed', ...VERSION_PARAMS],
      (p) => `INSERT INTO ${t} AS s (sess_id, sess_data, ${SESSION_COLUMNS})
VALUES (${p.key}::text, ${p.data}::text, ${p.name}::text, ${p.created}::bigint, ${p.modified}::bigint,
  ${p.expire}::bigint, ${p.addrCreated}::text, ${p.addrModified}::text, ${p.counter}::int, ${p.error}::int,
  ${p.warning}::int, ${p.notice}::int, ${p.message}::text, ${p.custom}::text)
ON CONFLICT (sess_id) DO UPDATE SET sess_data = excluded.sess_data, sess_name = excluded.sess_name,
  sess_created = excluded.sess_created, sess_modified = excluded.sess_modified,
  sess_expire = excluded.sess_expire, sess_addr_created = excluded.sess_addr_created,
  sess_addr_modified = excluded.sess_addr_modified, sess_counter = excluded.sess_counter,
  sess_error = excluded.sess_error, sess_warning = excluded.sess_warning, sess_notice = excluded.sess_notice,
  sess_err_message = excluded.sess_err_message, sess_custom = excluded.sess_custom
WHERE ${p.existed}::boolean AND ${unchanged(p, 's.')}`,
    ),
    // Deletes a copy that was moved, only if nobody changed it meanwhile.
    removeCopy: sql(
      'remove_copy',
      ['key', ...VERSION_PARAMS],
      (p) => `DELETE FROM ${t} WHERE sess_id = ${p.key} AND ${unchanged(p)}`,
    ),
    scan: sql(
      'scan',
      ['after', 'limit'],
      (p) =>
        `SELECT sess_id FROM ${t} WHERE sess_id > ${p.after}::text ORDER BY sess_id LIMIT ${p.limit}::int`,
      rows<{ sess_id: string }>(),
    ),
    // After clear(): every other process empties its cache.
  };
}
