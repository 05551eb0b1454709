import type { SessionRouting } from '../routing/session-routing.js';
import { type InspectedSession, inspectSession } from './inspection.js';
import { Revocation } from './revocation.js';
import type { SessionCodec } from './session-codec.js';
import { type SessionStats, sessionStats } from './session-stats.js';

/** The operator calls of the store, by stored key: revocations, statistics, inspection. */
export class Operations<Data> {
  readonly #routing: SessionRouting;
  readonly #codec: SessionCodec<Data>;
  readonly #revocation: Revocation;

  constructor(
    routing: SessionRouting,
    codec: SessionCodec<Data>,
    destroy: (key: string) => Promise<void>,
  ) {
    this.#routing = routing;
    this.#codec = codec;
    this.#revocation = new Revocation(routing.servers, destroy);
  }

  revokeKey(key: string | undefined): Promise<boolean> {
    return typeof key === 'string' && key !== ''
      ? this.#revocation.byKey(key)
      : Promise.resolve(false);
  }

  revokeField(value: string): Promise<number> {
    return this.#revocation.byField(value);
  }

  stats(): Promise<SessionStats> {
    return sessionStats(this.#routing.servers);
  }

  async inspect(key: string | undefined): Promise<InspectedSession<Data> | undefined> {
    if (typeof key !== 'string' || key === '') return undefined;
    return inspectSession(this.#routing, this.#codec, key);
  }
}
