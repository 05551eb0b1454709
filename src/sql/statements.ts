import type { Keyed, MetadataRow, SessionRow } from './rows.js';
import { rows, type SqlStatement, sql } from './statement.js';
import type { TableName } from './table-name.js';

/** The row that marks the last garbage collection; never a valid session key. */
export const GC_MARKER_ID = '!gc';

/** `sess_name` of a row that records a destroy made while a server was down. */
export const TOMBSTONE_NAME = '!destroyed';

/** Marker rows that say "this server holds sessions whose home is server X". */
export const foreignMarkerId = (homeId: string) => `!foreign:${homeId}`;

/** How long failover bookkeeping (markers, tombstones) lives at most: 400 days. */
const BOOKKEEPING_SECONDS = 400 * 24 * 3600;

/** The database's clock in Unix seconds: every expiry decision uses it. */
const NOW = 'floor(extract(epoch from now()))::bigint';

export const SESSION_COLUMNS = `sess_name, sess_created, sess_modified, sess_expire, sess_addr_created,
  sess_addr_modified, sess_counter, sess_error, sess_warning, sess_notice, sess_err_message, sess_custom`;

/**
 * What a write stores: the session's key, name (`sess_name`), serialized data, lifetime
 * (seconds), client address, error/warning/notice counters to add, message (null keeps the
 * stored one), whether the custom field was set, and its value.
 */
export const WRITE_PARAMS = [
  'key',
  'name',
  'data',
  'lifetime',
  'address',
  'error',
  'warning',
  'notice',
  'message',
  'customSet',
  'custom',
] as const;

/** A touch's parameters: key, lifetime (s), no write while the expiry is within `skip` (s), address. */
export const TOUCH_PARAMS = ['key', 'lifetime', 'skip', 'address'] as const;

/** The columns compared to tell that nobody changed a row since it was read. */
export const VERSION_PARAMS = [
  'seenModified',
  'seenName',
  'seenCounter',
  'seenExpire',
  'seenDataMd5',
] as const;

/** Every column of a row, as moved home after a failover. */
export const ROW_PARAMS = [
  'key',
  'data',
  'name',
  'created',
  'modified',
  'expire',
  'addrCreated',
  'addrModified',
  'counter',
  'error',
  'warning',
  'notice',
  'message',
  'custom',
] as const;

export type WriteParam = (typeof WRITE_PARAMS)[number];
export type TouchParam = (typeof TOUCH_PARAMS)[number];
export type VersionParam = (typeof VERSION_PARAMS)[number];
export type RowParam = (typeof ROW_PARAMS)[number];

/**
 * Every statement the store runs, built once per table; values are always bound, by name.
 * With a `channel` (the cache is on), writes and destroys also notify the other
 * processes, in the same round trip: their `instance` parameter is this process's id.
 */
export function buildStatements(table: TableName, keepExpired: boolean, channel?: string) {
  const t = table.quoted;
  /** The parameter list, with this process's instance id last when the cache notifies. */
  const notifying = <const P extends string>(params: readonly P[]) =>
    (channel ? [...params, 'instance'] : params) as readonly (P | 'instance')[];
  const notify = (p: { instance?: string }, key: string) =>
    channel ? `, pg_notify('${channel}', ${p.instance}::text || ' ' || ${key}) AS notified` : '';
  const live = `sess_expire >= ${NOW} AND sess_id NOT LIKE '!%' AND sess_data IS NOT NULL`;
  // A row that had expired when written again starts a new session, unless keepExpired.
  const restart = `(s.sess_name = '${TOMBSTONE_NAME}'${keepExpired ? '' : ' OR s.sess_expire < excluded.sess_modified'})`;
  const counter = (column: string) =>
    `${column} = CASE WHEN ${restart} THEN excluded.${column} ELSE coalesce(s.${column}, 0) + excluded.${column} END`;
  const readColumns = `${keepExpired ? 'sess_data' : `CASE WHEN sess_expire >= ${NOW} THEN sess_data END AS sess_data`},
  sess_expire < ${NOW} AS expired, ${SESSION_COLUMNS}, ${NOW} AS now`;
  /** The row still holds the version seen (`seenDataMd5` null: the data is not compared). */
  const unchanged = (p: Readonly<Record<VersionParam, string>>, alias = '') =>
    `${alias}sess_modified IS NOT DISTINCT FROM ${p.seenModified}::bigint
  AND ${alias}sess_name IS NOT DISTINCT FROM ${p.seenName}::text
  AND ${alias}sess_counter IS NOT DISTINCT FROM ${p.seenCounter}::int
  AND ${alias}sess_expire IS NOT DISTINCT FROM ${p.seenExpire}::bigint
  AND (${p.seenDataMd5}::text IS NULL OR md5(${alias}sess_data) = ${p.seenDataMd5}::text)`;

  return Object.freeze({
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
      notifying(WRITE_PARAMS),
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
RETURNING ${SESSION_COLUMNS}${notify(p, p.key)}`,
      rows<MetadataRow>(),
    ),
    // A session read by this request: updated only if it still holds what was read
    // (`expected`, md5 of it). No row back: it was changed or destroyed meanwhile.
    update: sql(
      'update',
      notifying([...WRITE_PARAMS, 'expected']),
      (
        p,
      ) => `UPDATE ${t} AS s SET sess_name = ${p.name}::text, sess_data = ${p.data}::text, sess_modified = ${NOW},
  sess_expire = ${NOW} + ${p.lifetime}::bigint, sess_addr_modified = coalesce(${p.address}::text, s.sess_addr_modified),
  sess_counter = coalesce(s.sess_counter, 0) + 1, sess_error = coalesce(s.sess_error, 0) + ${p.error}::int,
  sess_warning = coalesce(s.sess_warning, 0) + ${p.warning}::int, sess_notice = coalesce(s.sess_notice, 0) + ${p.notice}::int,
  sess_err_message = coalesce(${p.message}::text, s.sess_err_message),
  sess_custom = CASE WHEN ${p.customSet}::boolean THEN ${p.custom}::text ELSE s.sess_custom END
WHERE sess_id = ${p.key} AND md5(sess_data) = ${p.expected}::text
RETURNING ${SESSION_COLUMNS}${notify(p, p.key)}`,
      rows<MetadataRow>(),
    ),
    // Several updates in one round trip: update's parameters, each an array (keys distinct
    // and sorted, so that rows are locked in one order).
    updateMany: sql(
      'update_many',
      notifying([...WRITE_PARAMS, 'expected']),
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
WHERE s.sess_id = b.id AND md5(s.sess_data) = b.expected
RETURNING s.sess_id, ${SESSION_COLUMNS}${notify(p, 's.sess_id')}`,
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
      notifying(['key']),
      (p) =>
        `DELETE FROM ${t} WHERE sess_id = ${p.key}${channel ? ` RETURNING 1${notify(p, p.key)}` : ''}`,
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
    tableExists: sql(
      'table_exists',
      ['table'],
      (p) => `SELECT to_regclass(${p.table}::text) IS NOT NULL AS exists`,
      rows<{ exists: boolean }>(),
    ),
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
      notifying(['key']),
      (
        p,
      ) => `INSERT INTO ${t} AS s (sess_id, sess_name, sess_data, sess_created, sess_modified, sess_expire,
  sess_counter, sess_error, sess_warning, sess_notice)
VALUES (${p.key}::text, '${TOMBSTONE_NAME}', NULL, ${NOW}, ${NOW}, ${NOW} + ${BOOKKEEPING_SECONDS}, 0, 0, 0, 0)
ON CONFLICT (sess_id) DO UPDATE SET sess_name = excluded.sess_name, sess_data = NULL,
  sess_modified = excluded.sess_modified, sess_expire = excluded.sess_expire${channel ? ` RETURNING 1${notify(p, p.key)}` : ''}`,
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
    notifyAll: sql('notify_all', notifying([]), (p) =>
      channel ? `SELECT pg_notify('${channel}', ${p.instance}::text || ' *')` : 'SELECT 1',
    ),
  });
}

export type Statements = ReturnType<typeof buildStatements>;
export type StatementKind = keyof Statements;
/** The parameter names of one of the store's statements. */
export type ParamOf<K extends StatementKind> =
  Statements[K] extends SqlStatement<infer P, unknown> ? P : never;
/** The rows one of the store's statements returns. */
export type RowOf<K extends StatementKind> =
  Statements[K] extends SqlStatement<string, infer Row> ? Row : never;
