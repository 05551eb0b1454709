import { ErrorCodes, SessionPgsqlError } from '../errors.js';
import type { SessionRow } from '../sql/rows.js';
import { foreignMarkerId } from '../sql/statements.js';
import type { ForeignHomes } from './foreign-homes.js';
import { moveHome } from './move-home.js';
import type { Route, ServerRouter } from './server-router.js';

const SCAN_BATCH = 500;

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

  /** Moves a copy of a session written elsewhere home; see `moveHome`. */
  reconcile(key: string, route: Route): Promise<SessionRow | undefined> {
    return moveHome(key, route);
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

/** Thrown when every server failed: session_pgsql's "cannot connect to any PostgreSQL server". */
export function noServerError(cause: unknown): SessionPgsqlError {
  return new SessionPgsqlError(
    ErrorCodes.DB_UNREACHABLE,
    'cannot connect to any PostgreSQL server',
    { cause },
  );
}
