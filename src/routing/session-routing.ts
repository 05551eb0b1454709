import { ErrorCodes, SessionPgsqlError } from '../errors.js';
import type { Server } from '../server/server.js';
import { Failover, noServerError } from './failover.js';
import { ForeignHomes } from './foreign-homes.js';
import type { Placement } from './placement.js';
import { type Route, ServerRouter } from './server-router.js';

export interface SessionRoutingSettings {
  readonly failoverMode: boolean;
  /** How sessions are spread over the servers (not in failover mode). */
  readonly placement: Placement;
  /** How often failover markers are polled, in milliseconds. */
  readonly healthCheckMillis: number;
  /** Told when moving sessions home after a failover failed (it is tried again). */
  readonly onHandBackFailed: (error: unknown) => void;
}

/**
 * Where each session lives and how an operation on it survives a server going away:
 * placement (rendezvous hashing or session_pgsql's rule, or the list's order in failover mode), the move to the next
 * server when the target cannot be reached, and failover bookkeeping.
 */
export class SessionRouting {
  readonly servers: readonly Server[];
  readonly failover: Failover;
  readonly #router: ServerRouter;

  constructor(servers: readonly Server[], settings: SessionRoutingSettings) {
    const foreignHomes = new ForeignHomes();
    this.servers = servers;
    this.#router = new ServerRouter(servers, settings, foreignHomes);
    this.failover = new Failover(
      this.#router,
      foreignHomes,
      settings.healthCheckMillis,
      settings.onHandBackFailed,
    );
  }

  /** Where a stored key lives right now. */
  route(key: string): Route {
    return this.#router.route(key);
  }

  /**
   * Runs an operation on a session's servers: on its target, and when that server cannot
   * be reached, again on the next available one in the session's order.
   */
  async run<T>(key: string, operation: (route: Route) => Promise<T>): Promise<T> {
    await this.failover.ready();
    const servers = this.servers;
    for (let attempt = 1; ; attempt++) {
      const route = this.#router.route(key);
      try {
        // While copies may have to be moved home, one operation per session at a time here.
        return await (route.others.length > 0
          ? this.failover.exclusive(key, () => operation(route))
          : operation(route));
      } catch (error) {
        // Tried again elsewhere only when the target itself turned out to be down (a wait
        // for a pooled connection too: the connections may be stuck in a hung server).
        const code = error instanceof SessionPgsqlError ? error.code : undefined;
        const unreachable =
          code === ErrorCodes.DB_UNREACHABLE || code === ErrorCodes.POOL_EXHAUSTED;
        if (!unreachable || servers.length === 1 || route.target.available) throw error;
        if (attempt >= servers.length || !servers.some((s) => s.available))
          throw noServerError(error);
      }
    }
  }

  stop(): Promise<void> {
    return this.failover.stop();
  }
}
