import type { GcResult } from '../gc/garbage-collector.js';
import type { ServerStatus } from '../server/server.js';
import type { CacheLookupEvent, OperationEvent } from './operation-events.js';
import type { SessionState } from './session-state.js';

export interface WriteOptions {
  /** Seconds from now (by the database's clock) until the session expires. Default: the `ttl` option. */
  readonly lifetimeSeconds?: number | undefined;
  /** The client's address, stored as the creating or modifying address. */
  readonly address?: string | undefined;
  /** What `read` returned for this request: enables the short circuit and keeps concurrent changes. */
  readonly state?: SessionState | undefined;
}

export interface StoreStatus {
  readonly servers: readonly ServerStatus[];
  readonly serverCount: number;
  readonly failoverMode: boolean;
  readonly shortCircuit: boolean;
  readonly keepExpired: boolean;
  readonly gcIntervalSeconds: number;
  readonly embedded: boolean;
  readonly table: string;
}

/** A server going down or coming back. */
export interface HealthEvent {
  /** Position of the server in `db`. */
  readonly server: number;
  /** The connection, password hidden. */
  readonly connection: string;
  /** Why it was marked down (`failover` only). */
  readonly error?: unknown;
}

export interface SessionPgsqlEvents {
  gc: [GcResult];
  /** A server could not be reached: its sessions go to the next server in their order. */
  failover: [HealthEvent];
  /** A server that was down answers again. */
  recovery: [HealthEvent];
  /** `close()` was called: background work watching the store stops. */
  close: [];
  /** A read, write, touch or destroy ended (emitted only while someone listens). */
  operation: [OperationEvent];
  /** A read on a server with the cache on: answered from memory or not. */
  cacheLookup: [CacheLookupEvent];
}
