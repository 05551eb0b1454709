import { TOMBSTONE_NAME } from './bookkeeping-statements.js';
import type { MetadataRow } from './rows.js';
import { NOW, notify, notifying, rows, type StatementContext, sql } from './statement.js';

/** A row that is a session: not a bookkeeping row ('!gc', markers) nor a tombstone. */
const SESSION = `sess_id NOT LIKE '!%' AND sess_name IS DISTINCT FROM '${TOMBSTONE_NAME}'`;

/** One server's figures, as `stats` returns them (64-bit sums as numbers: see `Database`). */
export interface StatsRow {
  readonly active: number;
  readonly expired: number;
  readonly bytes_total: number;
  readonly bytes_min: number | null;
  readonly bytes_median: number | null;
  readonly bytes_p95: number | null;
  readonly bytes_max: number | null;
  readonly oldest_created: number | null;
  readonly newest_created: number | null;
  readonly last_accessed: number | null;
  readonly accesses: number;
}

/** One session's row, as `inspect` returns it: its metadata, its data and their size. */
export interface InspectRow extends Omit<MetadataRow, 'sess_md5'> {
  readonly sess_id: string;
  readonly sess_name: string | null;
  readonly sess_data: string;
  readonly bytes: number;
  readonly expired: boolean;
}

/**
 * The statements of the operator calls: revoking sessions (by stored key, or by custom
 * field), statistics, and one session's metadata and data. Revocations notify the other
 * processes' caches in the same round trip, as destroys do.
 */
export function operatorStatements(c: StatementContext) {
  const { t } = c;
  const live = `sess_expire >= ${NOW}`;
  const size = 'octet_length(sess_data)';
  const ofLive = (aggregate: string) => `${aggregate} FILTER (WHERE ${live})`;
  const percentile = (fraction: number) =>
    ofLive(`percentile_disc(${fraction}) WITHIN GROUP (ORDER BY ${size})`);
  return {
    revokeKey: sql(
      'revoke_key',
      notifying(c, ['key']),
      (p) =>
        `DELETE FROM ${t} WHERE sess_id = ${p.key}::text AND ${SESSION} RETURNING sess_id${notify(c, p, p.key)}`,
      rows<{ sess_id: string }>(),
    ),
    revokeField: sql(
      'revoke_field',
      notifying(c, ['custom']),
      (p) =>
        `DELETE FROM ${t} WHERE sess_custom = ${p.custom}::text AND ${SESSION} RETURNING sess_id${notify(c, p, 'sess_id')}`,
      rows<{ sess_id: string }>(),
    ),
    stats: sql(
      'stats',
      [],
      () => `SELECT ${ofLive('count(*)')}::int AS active,
  count(*) FILTER (WHERE NOT (${live}))::int AS expired,
  coalesce(${ofLive(`sum(${size})`)}, 0)::bigint AS bytes_total,
  ${ofLive(`min(${size})`)}::bigint AS bytes_min,
  ${percentile(0.5)}::bigint AS bytes_median,
  ${percentile(0.95)}::bigint AS bytes_p95,
  ${ofLive(`max(${size})`)}::bigint AS bytes_max,
  ${ofLive('min(sess_created)')}::bigint AS oldest_created,
  ${ofLive('max(sess_created)')}::bigint AS newest_created,
  ${ofLive('max(sess_modified)')}::bigint AS last_accessed,
  coalesce(${ofLive('sum(sess_counter)')}, 0)::bigint AS accesses
FROM ${t} WHERE ${SESSION} AND sess_data IS NOT NULL`,
      rows<StatsRow>(),
    ),
    inspect: sql(
      'inspect',
      ['key'],
      (p) => `SELECT sess_id, sess_name, sess_data, ${size} AS bytes, sess_created, sess_modified,
  sess_expire, NOT (${live}) AS expired, sess_addr_created, sess_addr_modified, sess_counter,
  sess_error, sess_warning, sess_notice, sess_err_message, sess_custom
FROM ${t} WHERE sess_id = ${p.key}::text AND ${SESSION} AND sess_data IS NOT NULL`,
      rows<InspectRow>(),
    ),
  };
}
