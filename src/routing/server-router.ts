import type { Server } from '../server/server.js';
import type { ForeignHomes } from './foreign-homes.js';
import { type Placement, type ServerOrder, serverOrder } from './placement.js';

/** Where one session lives right now. */
export interface Route {
  /** Every server in this session's order of preference. */
  readonly order: readonly Server[];
  /** The first available server in that order: reads and writes go there. */
  readonly target: Server;
  /** True when a server before the target is down: writes there are failovers. */
  readonly failedOver: boolean;
  /** The session's home (first in its order): failover markers name it. */
  readonly home: Server;
  /**
   * Servers after the target that may hold a newer copy, written while a server before
   * them was down (they carry a failover marker for a server at or before the target).
   */
  readonly others: readonly Server[];
}

/**
 * Chooses the servers of a session: its key placed over the servers (rendezvous hashing,
 * or session_pgsql's sum of bytes; the list's order in failover mode), skipping servers
 * that are down.
 */
export class ServerRouter {
  readonly servers: readonly Server[];
  readonly #order: ServerOrder;
  readonly #foreignHomes: ForeignHomes;

  constructor(
    servers: readonly Server[],
    settings: { readonly failoverMode: boolean; readonly placement: Placement },
    foreignHomes: ForeignHomes,
  ) {
    this.servers = servers;
    this.#foreignHomes = foreignHomes;
    this.#order = serverOrder(
      servers.map((s) => s.id),
      settings.placement,
      settings.failoverMode,
    );
  }

  /** The servers for a stored key, best first. */
  order(key: string): Server[] {
    return this.#order(key).map((index) => this.servers[index] as Server);
  }

  route(key: string): Route {
    const order = this.order(key);
    const home = order[0] as Server;
    if (order.length === 1) return { order, target: home, failedOver: false, home, others: [] };
    const targetIndex = Math.max(
      0,
      order.findIndex((s) => s.available),
    );
    const target = order[targetIndex] as Server;
    const homes = new Set(order.slice(0, targetIndex + 1).map((s) => s.id));
    const others = order
      .slice(targetIndex + 1)
      .filter((s) => this.#foreignHomes.holdsSessionsOf(s, homes));
    return { order, target, failedOver: targetIndex > 0, home, others };
  }
}
