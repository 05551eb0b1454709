import type { ResolvedOptions } from '../options/options.js';
import type { Server, ServerStatus } from '../server/server.js';
import type { SessionCodec } from './session-codec.js';
import type { StoreStatus } from './store-types.js';

/** Operations on every server at once: counts, listings, clearing, health and connections. */
export class Fleet<Data> {
  readonly servers: readonly Server[];
  readonly #codec: SessionCodec<Data>;

  constructor(servers: readonly Server[], codec: SessionCodec<Data>) {
    this.servers = servers;
    this.#codec = codec;
  }

  /** Live sessions on every server. */
  async length(): Promise<number> {
    let total = 0;
    for (const server of this.servers) {
      const { rows } = await server.run('count', {}, 'count sessions');
      total += rows[0]?.count ?? 0;
    }
    return total;
  }

  /** Every live session, by stored key. */
  async all(): Promise<Map<string, Data>> {
    const sessions = new Map<string, Data>();
    for (const server of this.servers) {
      const { rows } = await server.run('list', {}, 'list sessions');
      for (const row of rows)
        if (row.sess_data !== null) sessions.set(row.sess_id, this.#codec.parse(row.sess_data));
    }
    return sessions;
  }

  /** Deletes every session, and tells other processes' caches. */
  async clear(): Promise<void> {
    for (const server of this.servers) {
      server.cache?.flush();
      await server.run('clear', {}, 'clear sessions');
      server.cache?.flush(); // reads of ours in flight may have put sessions back meanwhile
      if (server.cache) await server.run('notifyAll', {}, 'tell other processes');
    }
  }

  /** Every server's status, with the settings that shape behaviour. */
  async status(o: ResolvedOptions<Data>): Promise<StoreStatus> {
    const servers: ServerStatus[] = await Promise.all(this.servers.map((s) => s.status()));
    return Object.freeze({
      servers: Object.freeze(servers),
      serverCount: servers.length,
      failoverMode: o.failoverMode,
      shortCircuit: o.shortCircuit,
      keepExpired: o.keepExpired,
      gcIntervalSeconds: o.gcIntervalSeconds,
      embedded: o.db.kind === 'embedded',
      table: o.table.display,
    });
  }

  async reset(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.reset()));
  }

  async close(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.close()));
  }
}
