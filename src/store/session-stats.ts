import { databaseError, type SessionPgsqlError } from '../errors.js';
import type { Server } from '../server/server.js';
import type { StatsRow } from '../sql/operator-statements.js';

/** Sizes of the stored data (`octet_length`, in the database's encoding), in bytes; 0 without sessions. */
export interface SessionBytes {
  readonly total: number;
  readonly min: number;
  readonly median: number;
  readonly p95: number;
  readonly max: number;
}

/** One server's active (unexpired) sessions, as `stats()` reports them. */
export interface ServerSessionStats {
  /** Position in the `db` list, from 0. */
  readonly server: number;
  /** The connection, password hidden. */
  readonly connection: string;
  /** False when the statistics could not be read there (`error` says why). */
  readonly up: boolean;
  readonly active: number;
  /** Expired sessions not collected yet. */
  readonly expired: number;
  readonly bytes: SessionBytes;
  /** Creation of the oldest and newest active session, by the database's clock. */
  readonly oldestCreatedAt: Date | null;
  readonly newestCreatedAt: Date | null;
  /** Latest access (write or touch) of an active session. */
  readonly lastAccessedAt: Date | null;
  /** Sum of the active sessions' access counters. */
  readonly accesses: number;
  readonly error?: SessionPgsqlError;
}

/** `stats()`: every server's figures, and their sums over the servers that answered. */
export interface SessionStats {
  readonly servers: readonly ServerSessionStats[];
  readonly active: number;
  readonly expired: number;
  readonly accesses: number;
  /** Total, smallest and largest over every server that answered. */
  readonly bytes: { readonly total: number; readonly min: number; readonly max: number };
}

const date = (seconds: number | null): Date | null =>
  seconds === null ? null : new Date(seconds * 1000);

/** One server's figures; a server that fails is reported down, with its error. */
async function serverStats(server: Server): Promise<ServerSessionStats> {
  const named = { server: server.index, connection: server.connection };
  try {
    const { rows } = await server.run('stats', {}, 'compute session statistics');
    const r = rows[0] as StatsRow;
    return Object.freeze({
      ...named,
      up: true,
      active: r.active,
      expired: r.expired,
      bytes: Object.freeze({
        total: r.bytes_total,
        min: r.bytes_min ?? 0,
        median: r.bytes_median ?? 0,
        p95: r.bytes_p95 ?? 0,
        max: r.bytes_max ?? 0,
      }),
      oldestCreatedAt: date(r.oldest_created),
      newestCreatedAt: date(r.newest_created),
      lastAccessedAt: date(r.last_accessed),
      accesses: r.accesses,
    });
  } catch (cause) {
    const error = databaseError(cause, 'compute session statistics');
    const bytes = Object.freeze({ total: 0, min: 0, median: 0, p95: 0, max: 0 });
    return Object.freeze({
      ...named,
      up: false,
      active: 0,
      expired: 0,
      bytes,
      oldestCreatedAt: null,
      newestCreatedAt: null,
      lastAccessedAt: null,
      accesses: 0,
      error,
    });
  }
}

/** Statistics of every server, computed in SQL, queried in parallel. */
export async function sessionStats(servers: readonly Server[]): Promise<SessionStats> {
  const each = await Promise.all(servers.map(serverStats));
  const up = each.filter((s) => s.up && s.active > 0);
  const sum = (pick: (s: ServerSessionStats) => number) =>
    each.reduce((total, s) => total + pick(s), 0);
  return Object.freeze({
    servers: Object.freeze(each),
    active: sum((s) => s.active),
    expired: sum((s) => s.expired),
    accesses: sum((s) => s.accesses),
    bytes: Object.freeze({
      total: sum((s) => s.bytes.total),
      min: up.length === 0 ? 0 : Math.min(...up.map((s) => s.bytes.min)),
      max: Math.max(0, ...up.map((s) => s.bytes.max)),
    }),
  });
}
