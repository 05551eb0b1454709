import { ErrorCodes, SessionPgsqlError } from '../errors.js';
import type { Server } from '../server.js';
import type { Route, ServerRouter } from '../server-router.js';
import type { MetadataRow } from '../session-state.js';
import { foreignMarkerId, TOMBSTONE_NAME } from '../statements.js';

/** A row as the read statement returns it. */
export type SessionRow = MetadataRow & {
  sess_name: string | null;
  sess_data: string | null;
  expired: boolean;
  now: number | string;
};

export const isTombstone = (row: SessionRow) => row.sess_name === TOMBSTONE_NAME;

const SCAN_BATCH = 500;

/**
 * Failover without losing sessions, across several servers.
 *
 * A write or destroy that cannot go to a session's home goes to the next server in
 * the session's order, which then carries a marker row naming that home; a destroy leaves
 * a tombstone there. Every process polls the markers. While a marker exists, the
 * sessions it may concern are read from both servers and the newer copy (or tombstone)
 * is moved to where the session belongs now; a background pass moves the rest and then
 * drops the marker.
 */
export class Failover {
  readonly #router: ServerRouter;
  readonly #intervalMillis: number;
  readonly #onFailed: (error: unknown) => void;
  #ready: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(router: ServerRouter, intervalMillis: number, onFailed: (error: unknown) => void) {
    this.#router = router;
    this.#intervalMillis = intervalMillis;
    this.#onFailed = onFailed;
  }

  /** Resolves once the markers were polled once (so a fresh process sees earlier failovers). */
  ready(): Promise<void> {
    if (this.#router.servers.length === 1) return Promise.resolve();
    this.#ready ??= this.#pollMarkers().finally(() => this.#schedule());
    return this.#ready;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#ready?.catch(() => {});
  }

  /** Records on the route's target that it now holds a session of the route's home. */
  async mark(route: Route): Promise<void> {
    await route.target.run('mark', [foreignMarkerId(route.home.id)], 'mark a failover');
    route.target.foreignHomes = new Set([...route.target.foreignHomes, route.home.id]);
  }

  /**
   * Reads a session from its target and from the servers that may hold a newer copy;
   * moves the newest copy to the target. Resolves the row now on the target, if any.
   */
  async reconcile(key: string, route: Route): Promise<SessionRow | undefined> {
    const servers = [route.target, ...route.others];
    const reads = await Promise.allSettled(
      servers.map((s) => s.run<SessionRow>('read', [key], 'read a session')),
    );
    const first = reads[0];
    if (first?.status === 'rejected') throw first.reason;
    let best: { server: Server; row: SessionRow } | undefined;
    reads.forEach((read, index) => {
      const row = read.status === 'fulfilled' ? read.value.rows[0] : undefined;
      if (!row) return;
      const modified = Number(row.sess_modified ?? 0);
      if (!best || modified >= Number(best.row.sess_modified ?? 0))
        best = { server: servers[index] as Server, row };
    });
    if (!best) return undefined;
    const { server: source, row } = best;
    if (source !== route.target) {
      if (isTombstone(row) && !route.failedOver)
        await route.target.run('destroy', [key], 'destroy a session moved home');
      else await route.target.run('restore', restoreValues(key, row), 'move a session home');
    }
    // Older copies elsewhere are stale now: remove them unless they changed meanwhile.
    for (const [index, read] of reads.entries()) {
      const server = servers[index] as Server;
      const copy = read.status === 'fulfilled' ? read.value.rows[0] : undefined;
      if (server === route.target || !copy) continue;
      await server
        .run('removeCopy', [key, copy.sess_modified, copy.sess_name], 'remove a moved copy')
        .catch(() => {});
    }
    if (isTombstone(row) && !route.failedOver) return undefined;
    return row;
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(
      () => {
        this.#pollMarkers()
          .then(() => this.#handBack())
          .catch(this.#onFailed)
          .finally(() => this.#schedule());
      },
      this.#intervalMillis * (0.75 + Math.random() / 2),
    );
    this.#timer.unref();
  }

  async #pollMarkers(): Promise<void> {
    const ids = this.#router.servers.map((s) => foreignMarkerId(s.id));
    await Promise.all(
      this.#router.servers.map(async (server) => {
        if (!server.available) return;
        try {
          const { rows } = await server.run<{ sess_id: string }>(
            'markers',
            [ids],
            'read failover markers',
          );
          server.foreignHomes = new Set(
            rows.map((r) => r.sess_id.slice(foreignMarkerId('').length)),
          );
        } catch {
          // the server's health now says down; its markers are polled again once it is back
        }
      }),
    );
  }

  /** Moves sessions written elsewhere during an outage back once their home answers again. */
  async #handBack(): Promise<void> {
    for (const holder of this.#router.servers) {
      for (const homeId of holder.foreignHomes) {
        const home = this.#router.servers.find((s) => s.id === homeId);
        if (!home?.available || !holder.available || this.#stopped) continue;
        const { rows: markers } = await holder.run<{ sess_modified: string | number }>(
          'markers',
          [[foreignMarkerId(homeId)]],
          'read a failover marker',
        );
        const seen = markers[0]?.sess_modified;
        if (seen === undefined) continue;
        let after = '';
        for (;;) {
          const { rows } = await holder.run<{ sess_id: string }>(
            'scan',
            [after, SCAN_BATCH],
            'scan moved sessions',
          );
          for (const { sess_id: key } of rows) {
            if (key.startsWith('!')) continue;
            const route = this.#router.route(key);
            if (route.target !== holder && route.target.available) await this.reconcile(key, route);
          }
          if (rows.length < SCAN_BATCH) break;
          after = (rows[rows.length - 1] as { sess_id: string }).sess_id;
        }
        await holder.run('unmark', [foreignMarkerId(homeId), seen], 'drop a failover marker');
      }
    }
  }
}

/** The parameters of the restore statement for a row read elsewhere. */
function restoreValues(key: string, row: SessionRow): unknown[] {
  return [
    key,
    row.sess_data,
    row.sess_name,
    row.sess_created,
    row.sess_modified,
    row.sess_expire,
    row.sess_addr_created,
    row.sess_addr_modified,
    row.sess_counter,
    row.sess_error,
    row.sess_warning,
    row.sess_notice,
    row.sess_err_message,
    row.sess_custom,
  ];
}

/** Thrown when every server failed: session_pgsql's "cannot connect to any PostgreSQL server". */
export function noServerError(cause: unknown): SessionPgsqlError {
  return new SessionPgsqlError(
    ErrorCodes.DB_UNREACHABLE,
    'cannot connect to any PostgreSQL server',
    { cause },
  );
}
