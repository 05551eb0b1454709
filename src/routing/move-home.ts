import { ErrorCodes, SessionPgsqlError } from '../errors.js';
import type { Server } from '../server/server.js';
import type { SessionRow } from '../sql/rows.js';
import { type RowParam, TOMBSTONE_NAME, type VersionParam } from '../sql/statements.js';
import type { Route } from './server-router.js';

/** A row that records a destroy made while a server was down. */
export const isTombstone = (row: SessionRow) => row.sess_name === TOMBSTONE_NAME;

/** Moves retried when the target changed between reading it and writing the copy there. */
const MAX_MOVE_ATTEMPTS = 5;
const CHANGED_MEANWHILE = Symbol('changed meanwhile');

/**
 * Reads a session from its target and from the servers that may hold a copy written while
 * the target (or a server before it) was down; moves such a copy to the target. Resolves
 * the row now on the target, if any.
 *
 * A copy on one of those servers always wins over the target's, whatever the clocks say:
 * it was written when the target could not be reached, and once it is moved it is removed
 * there. Comparing times would not do: a statement that was waiting inside a hung target
 * when the request gave up on it runs when the target resumes, later than the copies
 * written elsewhere meanwhile, and would bring back a value overwritten since (or a
 * destroyed session).
 */
export async function moveHome(key: string, route: Route): Promise<SessionRow | undefined> {
  for (let attempt = 1; ; attempt++) {
    const moved = await moveOnce(key, route);
    if (moved !== CHANGED_MEANWHILE) return moved;
    if (attempt >= MAX_MOVE_ATTEMPTS) {
      throw new SessionPgsqlError(
        ErrorCodes.DB_QUERY_FAILED,
        'a session kept changing on its server while a copy was moved there',
      );
    }
  }
}

async function moveOnce(
  key: string,
  route: Route,
): Promise<SessionRow | undefined | typeof CHANGED_MEANWHILE> {
  const servers = [route.target, ...route.others];
  const reads = await Promise.allSettled(servers.map((s) => s.batches.read(key)));
  const first = reads[0];
  if (first?.status === 'rejected') throw first.reason;
  const current = first?.value;
  let best: { server: Server; row: SessionRow } | undefined;
  reads.forEach((read, index) => {
    const row = read.status === 'fulfilled' ? read.value : undefined;
    if (index === 0 || !row) return;
    if (!best || (row.sess_modified ?? 0) >= (best.row.sess_modified ?? 0))
      best = { server: servers[index] as Server, row };
  });
  if (!best) return current && isTombstone(current) && !route.failedOver ? undefined : current;
  const { row } = best;
  const destroyed = isTombstone(row) && !route.failedOver;
  if (destroyed) {
    if (current) {
      const { rowCount } = await route.target.run(
        'removeCopy',
        { key, ...versionOf(current) },
        'destroy a session moved home',
      );
      if (rowCount === 0) return CHANGED_MEANWHILE;
    }
  } else {
    const { rowCount } = await route.target.run(
      'restore',
      { ...rowValues(key, row), existed: current !== undefined, ...versionOf(current) },
      'move a session home',
    );
    if (rowCount === 0) return CHANGED_MEANWHILE;
  }
  // The copies elsewhere are stale now: remove them unless they changed meanwhile.
  for (const [index, read] of reads.entries()) {
    const copy = read.status === 'fulfilled' ? read.value : undefined;
    if (index === 0 || !copy) continue;
    await (servers[index] as Server)
      .run('removeCopy', { key, ...versionOf(copy) }, 'remove a moved copy')
      .catch(() => {});
  }
  return destroyed ? undefined : row;
}

/**
 * The version of a row as read: the statements that move copies change a row only while it
 * still has it (nobody changed it meanwhile). No row: nothing to compare. (The data of an
 * expired row reads as null without keepExpired: then only the metadata is compared.)
 */
function versionOf(row: SessionRow | undefined): Record<VersionParam, unknown> {
  return {
    seenModified: row?.sess_modified ?? null,
    seenName: row?.sess_name ?? null,
    seenCounter: row?.sess_counter ?? null,
    seenExpire: row?.sess_expire ?? null,
    seenDataMd5: row?.sess_data == null ? null : row.sess_md5,
  };
}

/** Every column of a row read elsewhere, to write it home. */
function rowValues(key: string, row: SessionRow): Record<RowParam, unknown> {
  return {
    key,
    data: row.sess_data,
    name: row.sess_name,
    created: row.sess_created,
    modified: row.sess_modified,
    expire: row.sess_expire,
    addrCreated: row.sess_addr_created,
    addrModified: row.sess_addr_modified,
    counter: row.sess_counter,
    error: row.sess_error,
    warning: row.sess_warning,
    notice: row.sess_notice,
    message: row.sess_err_message,
    custom: row.sess_custom,
  };
}
