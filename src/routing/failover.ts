import { createHash } from 'node:crypto';
import { ErrorCodes, SessionPgsqlError } from '../errors.js';
import type { Server } from '../server.js';
import type { Route, ServerRouter } from '../server-router.js';
import type { SessionRow } from '../session-state.js';
import { foreignMarkerId, TOMBSTONE_NAME } from '../statements.js';

export const isTombstone = (row: SessionRow) => row.sess_name === TOMBSTONE_NAME;

const SCAN_BATCH = 500;

/** Moves retried when the target changed between reading it and writing the copy there. */
const MAX_RECONCILE_ATTEMPTS = 5;
const CHANGED_MEANWHILE = Symbol('changed meanwhile');

/**
 * Failover without losing sessions, across several servers.
 *
 * A write or destroy that cannot go to a session's home goes to the next server in
 * the session's order, which then carries a marker row naming that home; a destroy leaves
 * a tombstone there. Every process polls the markers. While a marker exists, the
 * sessions it may concern are read from both servers and the copy (or tombstone) on the
 * marked server, written while the home could not be reached, is moved to where the
 * session belongs now; a background pass moves the rest and then drops the marker.
 */
export class Failover {
  readonly #router: ServerRouter;
  readonly #intervalMillis: number;
  readonly #onFailed: (error: unknown) => void;
  #ready: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Per session key, the end of the last exclusive run (see `exclusive`). */
  readonly #busy = new Map<string, Promise<void>>();
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
   * Runs `run` for `key` after every earlier exclusive run for it in this process: a session
   * is never moved home by the background pass while a request of this process is reading,
   * writing or destroying it (a destroy between a move's read and its write would be undone).
   */
  async exclusive<T>(key: string, run: () => Promise<T>): Promise<T> {
    const previous = this.#busy.get(key);
    const current = previous ? previous.then(run, run) : run();
    const settled = current.then(
      () => {},
      () => {},
    );
    this.#busy.set(key, settled);
    try {
      return await current;
    } finally {
      if (this.#busy.get(key) === settled) this.#busy.delete(key);
    }
  }

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
  async reconcile(key: string, route: Route): Promise<SessionRow | undefined> {
    for (let attempt = 1; ; attempt++) {
      const moved = await this.#reconcileOnce(key, route);
      if (moved !== CHANGED_MEANWHILE) return moved;
      if (attempt >= MAX_RECONCILE_ATTEMPTS) {
        throw new SessionPgsqlError(
          ErrorCodes.DB_QUERY_FAILED,
          'a session kept changing on its server while a copy was moved there',
        );
      }
    }
  }

  async #reconcileOnce(
    key: string,
    route: Route,
  ): Promise<SessionRow | undefined | typeof CHANGED_MEANWHILE> {
    const servers = [route.target, ...route.others];
    const reads = await Promise.allSettled(servers.map((s) => s.read(key)));
    const first = reads[0];
    if (first?.status === 'rejected') throw first.reason;
    const current = first?.value;
    let best: { server: Server; row: SessionRow } | undefined;
    reads.forEach((read, index) => {
      const row = read.status === 'fulfilled' ? read.value : undefined;
      if (index === 0 || !row) return;
      const modified = Number(row.sess_modified ?? 0);
      if (!best || modified >= Number(best.row.sess_modified ?? 0))
        best = { server: servers[index] as Server, row };
    });
    if (!best) return current && isTombstone(current) && !route.failedOver ? undefined : current;
    const { row } = best;
    const destroyed = isTombstone(row) && !route.failedOver;
    if (destroyed) {
      if (current) {
        const { rowCount } = await route.target.run(
          'removeCopy',
          versionOf(key, current),
          'destroy a session moved home',
        );
        if (rowCount === 0) return CHANGED_MEANWHILE;
      }
    } else {
      const expected = current ? versionOf(key, current).slice(1) : [null, null, null, null, null];
      const { rowCount } = await route.target.run(
        'restore',
        [...restoreValues(key, row), current !== undefined, ...expected],
        'move a session home',
      );
      if (rowCount === 0) return CHANGED_MEANWHILE;
    }
    // The copies elsewhere are stale now: remove them unless they changed meanwhile.
    for (const [index, read] of reads.entries()) {
      const copy = read.status === 'fulfilled' ? read.value : undefined;
      if (index === 0 || !copy) continue;
      await (servers[index] as Server)
        .run('removeCopy', versionOf(key, copy), 'remove a moved copy')
        .catch(() => {});
    }
    return destroyed ? undefined : row;
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
            await this.exclusive(key, async () => {
              const route = this.#router.route(key);
              if (route.target !== holder && route.target.available)
                await this.reconcile(key, route);
            });
          }
          if (rows.length < SCAN_BATCH) break;
          after = (rows[rows.length - 1] as { sess_id: string }).sess_id;
        }
        await holder.run('unmark', [foreignMarkerId(homeId), seen], 'drop a failover marker');
      }
    }
  }
}

/**
 * The removeCopy parameters that match `row` only while nobody changed it. (The data of an
 * expired row reads as null without keepExpired: then only the metadata is compared.)
 */
function versionOf(key: string, row: SessionRow): unknown[] {
  return [
    key,
    row.sess_modified,
    row.sess_name,
    row.sess_counter,
    row.sess_expire,
    row.sess_data === null ? null : createHash('md5').update(row.sess_data).digest('hex'),
  ];
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
