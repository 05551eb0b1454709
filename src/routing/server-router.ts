import type { Server } from '../server/server.js';
import type { ForeignHomes } from './foreign-homes.js';
import { Rendezvous } from './rendezvous.js';

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
 * Chooses the servers of a session: rendezvous hashing of its key over the servers
 * (or the list's order in failover mode), skipping servers that are down.
 */
export class ServerRouter {
  readonly servers: readonly Server[];
  readonly #rendezvous: Rendezvous | undefined;
  readonly #foreignHomes: ForeignHomes;

  constructor(servers: readonly Server[], failoverMode: boolean, foreignHomes: ForeignHomes) {
    this.servers = servers;
    this.#foreignHomes = foreignHomes;
    this.#rendezvous =
      failoverMode || servers.length === 1 ? undefined : new Rendezvous(servers.map((s) => s.id));
  }

  /** The servers for a stored key, best first. */
  order(key: string): Server[] {
    if (!this.#rendezvous) return [...this.servers];
    return this.#rendezvous.rank(key).map((index) => this.servers[index] as Server);
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
