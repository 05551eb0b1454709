import { createHash } from 'node:crypto';
import { ErrorCodes, SessionPgsqlError } from '../errors.js';
import type { Server } from '../server/server.js';
import type { SessionRow } from '../sql/rows.js';
import {
  foreignMarkerId,
  type RowParam,
  TOMBSTONE_NAME,
  type VersionParam,
} from '../sql/statements.js';
import type { ForeignHomes } from './foreign-homes.js';
import type { Route, ServerRouter } from './server-router.js';

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
  readonly #foreignHomes: ForeignHomes;
  readonly #intervalMillis: number;
  readonly #onFailed: (error: unknown) => void;
  #ready: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  /** Per session key, the end of the last exclusive run (see `exclusive`). */
  readonly #busy = new Map<string, Promise<void>>();
  #stopped = false;

  constructor(
    router: ServerRouter,
    foreignHomes: ForeignHomes,
    intervalMillis: number,
    onFailed: (error: unknown) => void,
  ) {
    this.#router = router;
    this.#foreignHomes = foreignHomes;
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
    await route.target.run('mark', { marker: foreignMarkerId(route.home.id) }, 'mark a failover');
    this.#foreignHomes.add(route.target, route.home.id);
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
          const { rows } = await server.run('markers', { markers: ids }, 'read failover markers');
          const prefix = foreignMarkerId('').length;
          this.#foreignHomes.set(
            server,
            rows.map((r) => r.sess_id.slice(prefix)),
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
      for (const homeId of this.#foreignHomes.of(holder)) {
        const home = this.#router.servers.find((s) => s.id === homeId);
        if (!home?.available || !holder.available || this.#stopped) continue;
        const { rows: markers } = await holder.run(
          'markers',
          { markers: [foreignMarkerId(homeId)] },
          'read a failover marker',
        );
        const seen = markers[0]?.sess_modified;
        if (seen === undefined) continue;
        let after = '';
        for (;;) {
          const { rows } = await holder.run(
            'scan',
            { after, limit: SCAN_BATCH },
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
        await holder.run(
          'unmark',
          { marker: foreignMarkerId(homeId), seen },
          'drop a failover marker',
        );
      }
    }
  }
}

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

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
    seenDataMd5: row?.sess_data == null ? null : md5(row.sess_data),
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

/** Thrown when every server failed: session_pgsql's "cannot connect to any PostgreSQL server". */
export function noServerError(cause: unknown): SessionPgsqlError {
  return new SessionPgsqlError(
    ErrorCodes.DB_UNREACHABLE,
    'cannot connect to any PostgreSQL server',
    { cause },
  );
}
