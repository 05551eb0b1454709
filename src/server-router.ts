import type { Server } from './server.js';

/**
 * Chooses the server that holds a session. With one server that is the only one; the
 * routing of several servers (hashing, failover) plugs in here without touching the store.
 */
export class ServerRouter {
  readonly servers: readonly Server[];

  constructor(servers: readonly Server[]) {
    if (servers.length !== 1) throw new RangeError('one server is supported for now');
    this.servers = servers;
  }

  /** The server for a stored session key. */
  serverFor(_key: string): Server {
    return this.servers[0] as Server;
  }
}
