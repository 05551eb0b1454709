import { createHash } from 'node:crypto';
import type { Statement } from './database/database.js';
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

export interface Statements {
  readonly read: Statement;
  readonly readMany: Statement;
  readonly write: Statement;
  readonly update: Statement;
  readonly updateMany: Statement;
  readonly touch: Statement;
  readonly touchMany: Statement;
  readonly destroy: Statement;
  readonly count: Statement;
  readonly list: Statement;
  readonly clear: Statement;
  readonly gcClaim: Statement;
  readonly gcSelect: Statement;
  readonly gcDelete: Statement;
  readonly tableExists: Statement;
  readonly notifyAll: Statement;
  readonly ping: Statement;
  readonly mark: Statement;
  readonly markers: Statement;
  readonly unmark: Statement;
  readonly tombstone: Statement;
  readonly restore: Statement;
  readonly removeCopy: Statement;
  readonly scan: Statement;
}

function statement(kind: string, text: string): Statement {
  const digest = createHash('sha1').update(text).digest('hex').slice(0, 10);
  return Object.freeze({ name: `session_pgsql_${kind}_${digest}`, text });
}

/**
 * Every statement the store runs, built once per table; values are always bound.
 * With a `channel` (the cache is on), writes and destroys also notify the other
 * processes, in the same round trip: the last parameter is this process's instance id.
 */
export function buildStatements(
  table: TableName,
  keepExpired: boolean,
  channel?: string,
): Statements {
  const t = table.quoted;
  const notify = (instance: string, key = '$1') =>
    channel ? `, pg_notify('${channel}', ${instance}::text || ' ' || ${key}) AS notified` : '';
  const live = `sess_expire >= ${NOW} AND sess_id NOT LIKE '!%' AND sess_data IS NOT NULL`;
  // A row that had expired when written again starts a new session, unless keepExpired.
  const restart = `(s.sess_name = '${TOMBSTONE_NAME}'${keepExpired ? '' : ' OR s.sess_expire < excluded.sess_modified'})`;
  const counter = (column: string) =>
    `${column} = CASE WHEN ${restart} THEN excluded.${column} ELSE coalesce(s.${column}, 0) + excluded.${column} END`;
  const readColumns = `${keepExpired ? 'sess_data' : `CASE WHEN sess_expire >= ${NOW} THEN sess_data END AS sess_data`},
  sess_expire < ${NOW} AS expired, ${SESSION_COLUMNS}, ${NOW} AS now`;
  return Object.freeze({
    read: statement('read', `SELECT ${readColumns} FROM ${t} WHERE sess_id = $1`),
    // Several sessions in one round trip (the reads of one turn of the event loop). $1 keys
    readMany: statement(
      'read_many',
      `SELECT sess_id, ${readColumns} FROM ${t} WHERE sess_id = ANY($1::text[])`,
    ),
    // A new session, or one that was not read. $1 key, $2 name, $3 data, $4 lifetime s,
    // $5 address, $6-$8 error/warning/notice added, $9 message (null keeps), $10 custom set?, $11 custom
    write: statement(
      'write',
      `INSERT INTO ${t} AS s (sess_id, sess_name, sess_data, sess_created, sess_modified, sess_expire,
  sess_addr_created, sess_addr_modified, sess_counter, sess_error, sess_warning, sess_notice, sess_err_message, sess_custom)
VALUES ($1::text, $2::text, $3::text, ${NOW}, ${NOW}, ${NOW} + $4::bigint, $5::text, $5::text, 1,
  $6::int, $7::int, $8::int, $9::text, $11::text)
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
  sess_custom = CASE WHEN ${restart} OR $10::boolean THEN excluded.sess_custom ELSE s.sess_custom END
RETURNING ${SESSION_COLUMNS}${notify('$12')}`,
    ),
    // A session read by this request: updated only if it still holds what was read
    // ($12, md5 of it). No row back: it was changed or destroyed meanwhile.
    update: statement(
      'update',
      `UPDATE ${t} AS s SET sess_name = $2::text, sess_data = $3::text, sess_modified = ${NOW},
  sess_expire = ${NOW} + $4::bigint, sess_addr_modified = coalesce($5::text, s.sess_addr_modified),
  sess_counter = coalesce(s.sess_counter, 0) + 1, sess_error = coalesce(s.sess_error, 0) + $6::int,
  sess_warning = coalesce(s.sess_warning, 0) + $7::int, sess_notice = coalesce(s.sess_notice, 0) + $8::int,
  sess_err_message = coalesce($9::text, s.sess_err_message),
  sess_custom = CASE WHEN $10::boolean THEN $11::text ELSE s.sess_custom END
WHERE sess_id = $1 AND md5(sess_data) = $12::text
RETURNING ${SESSION_COLUMNS}${notify('$13')}`,
    ),
    // Several updates in one round trip: update's parameters as arrays (keys distinct, sorted:
    // rows are locked in one order); $13 instance, with the cache.
    updateMany: statement(
      'update_many',
      `UPDATE ${t} AS s SET sess_name = b.name, sess_data = b.data, sess_modified = ${NOW},
  sess_expire = ${NOW} + b.lifetime, sess_addr_modified = coalesce(b.address, s.sess_addr_modified),
  sess_counter = coalesce(s.sess_counter, 0) + 1, sess_error = coalesce(s.sess_error, 0) + b.error,
  sess_warning = coalesce(s.sess_warning, 0) + b.warning, sess_notice = coalesce(s.sess_notice, 0) + b.notice,
  sess_err_message = coalesce(b.message, s.sess_err_message),
  sess_custom = CASE WHEN b.custom_set THEN b.custom ELSE s.sess_custom END
FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::int[], $7::int[],
  $8::int[], $9::text[], $10::boolean[], $11::text[], $12::text[])
  AS b(id, name, data, lifetime, address, error, warning, notice, message, custom_set, custom, expected)
WHERE s.sess_id = b.id AND md5(s.sess_data) = b.expected
RETURNING s.sess_id, ${SESSION_COLUMNS}${notify('$13', 's.sess_id')}`,
    ),
    // $1 key, $2 lifetime s, $3 skip while the stored expiry is within this many seconds, $4 address
    touch: statement(
      'touch',
      `UPDATE ${t} SET sess_expire = ${NOW} + $2::bigint, sess_modified = ${NOW},
  sess_counter = coalesce(sess_counter, 0) + 1, sess_addr_modified = coalesce($4::text, sess_addr_modified)
WHERE sess_id = $1 AND sess_expire >= ${NOW} AND ($3::bigint = 0 OR sess_expire < ${NOW} + $2::bigint - $3::bigint)`,
    ),
    // Several touches in one round trip. $1 keys (distinct, sorted: rows are locked in one
    // order), $2 lifetimes, $3 windows, $4 addresses, as in touch
    touchMany: statement(
      'touch_many',
      `UPDATE ${t} AS s SET sess_expire = ${NOW} + b.lifetime, sess_modified = ${NOW},
  sess_counter = coalesce(s.sess_counter, 0) + 1, sess_addr_modified = coalesce(b.address, s.sess_addr_modified)
FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[]) AS b(id, lifetime, skip, address)
WHERE s.sess_id = b.id AND s.sess_expire >= ${NOW}
  AND (b.skip = 0 OR s.sess_expire < ${NOW} + b.lifetime - b.skip)
RETURNING s.sess_id`,
    ),
    destroy: statement(
      'destroy',
      `DELETE FROM ${t} WHERE sess_id = $1${channel ? ` RETURNING 1${notify('$2')}` : ''}`,
    ),
    count: statement('count', `SELECT count(*)::int AS count FROM ${t} WHERE ${live}`),
    list: statement('list', `SELECT sess_id, sess_data FROM ${t} WHERE ${live} ORDER BY sess_id`),
    clear: statement('clear', `DELETE FROM ${t} WHERE sess_id <> '${GC_MARKER_ID}'`),
    // Claims the collection for the whole fleet: only one caller per interval gets a row back.
    gcClaim: statement(
      'gc_claim',
      `INSERT INTO ${t} AS s (sess_id, sess_name, sess_created, sess_modified, sess_expire,
  sess_counter, sess_error, sess_warning, sess_notice)
VALUES ('${GC_MARKER_ID}', 'session-pgsql garbage collection', ${NOW}, ${NOW}, ${NOW} + $1::bigint, 1, 0, 0, 0)
ON CONFLICT (sess_id) DO UPDATE SET sess_modified = excluded.sess_modified,
  sess_expire = excluded.sess_expire, sess_counter = coalesce(s.sess_counter, 0) + 1
WHERE s.sess_modified <= excluded.sess_modified - $1::bigint
RETURNING sess_counter`,
    ),
    // Collection in batches: up to $1 expired keys (on the expiry index), then those rows.
    gcSelect: statement(
      'gc_select',
      `SELECT sess_id FROM ${t} WHERE sess_expire < ${NOW} AND sess_id <> '${GC_MARKER_ID}' LIMIT $1::int`,
    ),
    gcDelete: statement(
      'gc_delete',
      `DELETE FROM ${t} WHERE sess_id = ANY($1::text[]) AND sess_expire < ${NOW} AND sess_id <> '${GC_MARKER_ID}'`,
    ),
    tableExists: statement('table_exists', 'SELECT to_regclass($1::text) IS NOT NULL AS exists'),
    ping: statement('ping', 'SELECT 1'),
    // Failover bookkeeping. $1 marker id.
    mark: statement(
      'mark',
      `INSERT INTO ${t} AS s (sess_id, sess_name, sess_created, sess_modified, sess_expire,
  sess_counter, sess_error, sess_warning, sess_notice)
VALUES ($1::text, 'session-pgsql failover marker', ${NOW}, ${NOW}, ${NOW} + ${BOOKKEEPING_SECONDS}, 0, 0, 0, 0)
ON CONFLICT (sess_id) DO UPDATE SET sess_modified = excluded.sess_modified, sess_expire = excluded.sess_expire`,
    ),
    // $1 marker ids
    markers: statement(
      'markers',
      `SELECT sess_id, sess_modified FROM ${t} WHERE sess_id = ANY($1::text[])`,
    ),
    // $1 marker id, $2 remove only if not set again since (Unix seconds)
    // (a marker set again within the last second is kept: it may be newer than the one read)
    unmark: statement(
      'unmark',
      `DELETE FROM ${t} WHERE sess_id = $1 AND sess_modified <= $2::bigint
  AND sess_modified < ${NOW} - 1`,
    ),
    // A destroy while a server that may hold a copy is down. $1 key ($2 instance, with the cache)
    tombstone: statement(
      'tombstone',
      `INSERT INTO ${t} AS s (sess_id, sess_name, sess_data, sess_created, sess_modified, sess_expire,
  sess_counter, sess_error, sess_warning, sess_notice)
VALUES ($1::text, '${TOMBSTONE_NAME}', NULL, ${NOW}, ${NOW}, ${NOW} + ${BOOKKEEPING_SECONDS}, 0, 0, 0, 0)
ON CONFLICT (sess_id) DO UPDATE SET sess_name = excluded.sess_name, sess_data = NULL,
  sess_modified = excluded.sess_modified, sess_expire = excluded.sess_expire${channel ? ` RETURNING 1${notify('$2')}` : ''}`,
    ),
    // Moves a copy home: the whole row as read elsewhere, only if the home still holds what
    // was read there ($15: it had a row; $16-$20: its sess_modified, sess_name, sess_counter,
    // sess_expire and md5 of sess_data, null when the read could not see the data): a change
    // made meanwhile is never overwritten.
    restore: statement(
      'restore',
      `INSERT INTO ${t} AS s (sess_id, sess_data, ${SESSION_COLUMNS})
VALUES ($1::text, $2::text, $3::text, $4::bigint, $5::bigint, $6::bigint, $7::text, $8::text, $9::int,
  $10::int, $11::int, $12::int, $13::text, $14::text)
ON CONFLICT (sess_id) DO UPDATE SET sess_data = excluded.sess_data, sess_name = excluded.sess_name,
  sess_created = excluded.sess_created, sess_modified = excluded.sess_modified,
  sess_expire = excluded.sess_expire, sess_addr_created = excluded.sess_addr_created,
  sess_addr_modified = excluded.sess_addr_modified, sess_counter = excluded.sess_counter,
  sess_error = excluded.sess_error, sess_warning = excluded.sess_warning, sess_notice = excluded.sess_notice,
  sess_err_message = excluded.sess_err_message, sess_custom = excluded.sess_custom
WHERE $15::boolean AND s.sess_modified IS NOT DISTINCT FROM $16::bigint
  AND s.sess_name IS NOT DISTINCT FROM $17::text AND s.sess_counter IS NOT DISTINCT FROM $18::int
  AND s.sess_expire IS NOT DISTINCT FROM $19::bigint
  AND ($20::text IS NULL OR md5(s.sess_data) = $20::text)`,
    ),
    // Deletes a copy that was moved, only if nobody changed it meanwhile.
    // $1 key, $2 modified, $3 name, $4 counter, $5 expire, $6 md5 of data (null: not compared)
    removeCopy: statement(
      'remove_copy',
      `DELETE FROM ${t} WHERE sess_id = $1 AND sess_modified IS NOT DISTINCT FROM $2::bigint
  AND sess_name IS NOT DISTINCT FROM $3::text AND sess_counter IS NOT DISTINCT FROM $4::int
  AND sess_expire IS NOT DISTINCT FROM $5::bigint AND ($6::text IS NULL OR md5(sess_data) = $6::text)`,
    ),
    // $1 after this key, $2 batch size
    scan: statement(
      'scan',
      `SELECT sess_id FROM ${t} WHERE sess_id > $1::text ORDER BY sess_id LIMIT $2::int`,
    ),
    // After clear(): every other process empties its cache. $1 instance id.
    notifyAll: statement(
      'notify_all',
      channel
        ? `SELECT pg_notify('${channel}', $1::text || ' *')`
        : 'SELECT 1 WHERE $1::text IS NULL',
    ),
  });
}
