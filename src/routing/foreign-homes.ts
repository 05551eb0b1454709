import type { Server } from '../server/server.js';

/**
 * What each server's failover markers say: the homes (server ids) whose sessions it holds,
 * written there while their home could not be reached. Failover keeps it up to date; the
 * router reads it to know where a newer copy of a session may be.
 */
export class ForeignHomes {
  readonly #byServer = new Map<Server, ReadonlySet<string>>();

  of(server: Server): ReadonlySet<string> {
    return this.#byServer.get(server) ?? new Set();
  }

  /** Replaces what is known of a server, from its markers as read. */
  set(server: Server, homes: Iterable<string>): void {
    this.#byServer.set(server, new Set(homes));
  }

  /** Records that a server now holds a session of `home`. */
  add(server: Server, home: string): void {
    this.#byServer.set(server, new Set([...this.of(server), home]));
  }

  /** True when `server` carries a marker for one of `homes`. */
  holdsSessionsOf(server: Server, homes: ReadonlySet<string>): boolean {
    for (const home of this.of(server)) if (homes.has(home)) return true;
    return false;
  }
}
