import type { OperationEvent } from '../store/operation-events.js';
import type { SessionPgsql } from '../store/store.js';

/** One point of the dashboard's charts: the store as it was at `at`. */
export interface Sample {
  /** Milliseconds since the epoch. */
  readonly at: number;
  /** Live sessions on every server that could be counted; `null` when none could. */
  readonly sessions: number | null;
  /** Servers up (a server never used yet counts as not down). */
  readonly serversUp: number;
  readonly serversDown: number;
  /** Per second over the interval before `at`. */
  readonly readsPerSecond: number;
  readonly writesPerSecond: number;
  /** Writes and touches the short circuit skipped. */
  readonly skippedPerSecond: number;
  readonly errorsPerSecond: number;
}

/** A garbage collection run. */
export interface CollectionRecord {
  readonly at: number;
  readonly server: number;
  readonly deleted: number;
  readonly durationMillis: number;
}

/** A server marked down (`failover`) or answering again (`recovery`). */
export interface HealthRecord {
  readonly at: number;
  readonly kind: 'failover' | 'recovery';
  readonly server: number;
  readonly connection: string;
  /** Why it was marked down: the error's message (connection passwords are hidden in it). */
  readonly error: string | null;
}

export interface SamplerSettings {
  readonly intervalMillis: number;
  /** Samples kept; the oldest are dropped. */
  readonly samples: number;
  /** Collections and health changes kept, each. */
  readonly events: number;
}

/** A fixed-size buffer that drops its oldest entry when full. */
class Ring<T> {
  readonly #items: T[] = [];
  readonly #size: number;

  constructor(size: number) {
    this.#size = size;
  }

  push(item: T): void {
    this.#items.push(item);
    if (this.#items.length > this.#size) this.#items.shift();
  }

  list(): readonly T[] {
    return [...this.#items];
  }
}

/**
 * Samples a store for the dashboard: every `intervalMillis`, its live sessions and servers
 * (through `status()`) and the reads, writes and skipped writes counted from its
 * `operation` events since the last sample; and the last collections and health changes.
 * Started by the dashboard's first request; its timer is `unref()`ed and scheduled after
 * each sample ends; it stops when the store closes (or `stop()`).
 */
export class Sampler {
  readonly #store: SessionPgsql<unknown>;
  readonly #settings: SamplerSettings;
  readonly #samples: Ring<Sample>;
  readonly #collections: Ring<CollectionRecord>;
  readonly #health: Ring<HealthRecord>;
  #counts = { reads: 0, writes: 0, skipped: 0, errors: 0 };
  #since = performance.now();
  #timer: NodeJS.Timeout | undefined;
  #first: Promise<void> | undefined;
  #stopped = false;
  readonly #detach: () => void;

  constructor(store: SessionPgsql<unknown>, settings: SamplerSettings) {
    this.#store = store;
    this.#settings = settings;
    this.#samples = new Ring(settings.samples);
    this.#collections = new Ring(settings.events);
    this.#health = new Ring(settings.events);
    const onOperation = (event: OperationEvent) => this.#count(event);
    const onGc = (r: { server: number; deleted: number; durationMillis: number }) =>
      this.#collections.push({ at: Date.now(), ...pick(r) });
    const onFailover = (e: { server: number; connection: string; error?: unknown }) =>
      this.#health.push({ at: Date.now(), kind: 'failover', ...health(e) });
    const onRecovery = (e: { server: number; connection: string }) =>
      this.#health.push({ at: Date.now(), kind: 'recovery', ...health(e) });
    const onClose = () => this.stop();
    store.on('operation', onOperation);
    store.on('gc', onGc);
    store.on('failover', onFailover);
    store.on('recovery', onRecovery);
    store.on('close', onClose);
    this.#detach = () => {
      store.off('operation', onOperation);
      store.off('gc', onGc);
      store.off('failover', onFailover);
      store.off('recovery', onRecovery);
      store.off('close', onClose);
    };
  }

  /** Starts sampling (once); resolves when the first sample is taken. */
  start(): Promise<void> {
    this.#first ??= this.#sample();
    return this.#first;
  }

  samples(): readonly Sample[] {
    return this.#samples.list();
  }

  collections(): readonly CollectionRecord[] {
    return this.#collections.list();
  }

  health(): readonly HealthRecord[] {
    return this.#health.list();
  }

  /** Stops the timer and the event listeners; the samples stay readable. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
    this.#detach();
  }

  #count(event: OperationEvent): void {
    const c = this.#counts;
    if (event.outcome === 'error') c.errors++;
    else if (event.outcome === 'skipped') c.skipped++;
    else if (event.operation === 'read') c.reads++;
    else if (event.operation === 'write' || event.operation === 'touch') c.writes++;
  }

  async #sample(): Promise<void> {
    if (this.#stopped) return;
    let sessions: number | null = null;
    let serversUp = 0;
    let serversDown = 0;
    try {
      for (const server of (await this.#store.status()).servers) {
        if (server.up === false) serversDown++;
        else serversUp++;
        if (server.sessions !== null) sessions = (sessions ?? 0) + server.sessions;
      }
    } catch {
      // closed, or every server unreachable: the sample shows no sessions; the 'close'
      // event stops the sampler.
    }
    if (this.#stopped) return;
    const now = performance.now();
    const seconds = Math.max((now - this.#since) / 1000, 0.001);
    const c = this.#counts;
    const rate = (n: number) => Math.round((n / seconds) * 100) / 100;
    this.#samples.push({
      at: Date.now(),
      sessions,
      serversUp,
      serversDown,
      readsPerSecond: rate(c.reads),
      writesPerSecond: rate(c.writes),
      skippedPerSecond: rate(c.skipped),
      errorsPerSecond: rate(c.errors),
    });
    this.#counts = { reads: 0, writes: 0, skipped: 0, errors: 0 };
    this.#since = now;
    this.#timer = setTimeout(() => void this.#sample(), this.#settings.intervalMillis);
    this.#timer.unref();
  }
}

const pick = (r: { server: number; deleted: number; durationMillis: number }) => ({
  server: r.server,
  deleted: r.deleted,
  durationMillis: Math.round(r.durationMillis * 100) / 100,
});

const health = (e: { server: number; connection: string; error?: unknown }) => ({
  server: e.server,
  connection: e.connection,
  error:
    e.error instanceof Error ? e.error.message : e.error === undefined ? null : String(e.error),
});
