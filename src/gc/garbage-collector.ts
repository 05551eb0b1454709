import { setTimeout as sleep } from 'node:timers/promises';
import { MAX_TIMER_MILLIS } from '../options/option.js';
import type { Server } from '../server/server.js';

/**
 * After each batch the collector waits as long as the batch took (up to this): collection
 * takes at most about half of the server's time, and requests meanwhile keep their latency.
 */
const MAX_PAUSE_MILLIS = 1000;

export interface GcResult {
  /** The server collected, by its position in `db`. */
  readonly server: number;
  readonly deleted: number;
  readonly durationMillis: number;
}

export interface GarbageCollectorSettings {
  readonly intervalSeconds: number;
  /** How often this process checks whether a collection is due, in milliseconds. */
  readonly checkMillis: number;
  readonly batchSize: number;
  readonly onCollected: (result: GcResult) => void;
  readonly onFailed: (error: unknown) => void;
}

/**
 * Deletes expired sessions in batches. With a positive interval every process checks
 * now and then, but the claim row in the table lets only one process of the whole
 * fleet collect each server per interval. With a negative interval it collects on
 * every access; with 0 only when `collect()` is called.
 */
export class GarbageCollector {
  readonly #servers: readonly Server[];
  readonly #settings: GarbageCollectorSettings;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #stopped = false;

  constructor(servers: readonly Server[], settings: GarbageCollectorSettings) {
    this.#servers = servers;
    this.#settings = settings;
  }

  /** Called on every store access: starts the schedule lazily, or collects when the interval is negative. */
  onAccess(): void {
    if (this.#stopped) return;
    const interval = this.#settings.intervalSeconds;
    if (interval < 0) this.#runInBackground(() => this.collect());
    else if (interval > 0 && this.#timer === undefined) this.#schedule();
  }

  /** Collects every server now, without claiming: for cron jobs. Returns the rows deleted. */
  async collect(): Promise<number> {
    let deleted = 0;
    for (const server of this.#servers) deleted += (await this.#collect(server)).deleted;
    return deleted;
  }

  /** Collects the servers whose interval has passed across the fleet. */
  async collectIfDue(): Promise<void> {
    for (const server of this.#servers) {
      if (!server.available) continue; // collected once it is back
      try {
        const { rows } = await server.run(
          'gcClaim',
          { intervalSeconds: this.#settings.intervalSeconds },
          'claim the garbage collection',
        );
        if (rows.length > 0) await this.#collect(server);
      } catch (error) {
        this.#settings.onFailed(error);
      }
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#running?.catch(() => {});
  }

  async #collect(server: Server): Promise<GcResult> {
    const started = performance.now();
    let deleted = 0;
    // Two short statements per batch: no statement locks more than one batch of rows.
    for (;;) {
      const batchStarted = performance.now();
      const { rows } = await server.run(
        'gcSelect',
        { limit: this.#settings.batchSize },
        'find expired sessions',
      );
      if (rows.length === 0) break;
      const keys = rows.map((row) => row.sess_id);
      const { rowCount } = await server.run('gcDelete', { keys }, 'delete expired sessions');
      deleted += rowCount;
      if (rows.length < this.#settings.batchSize || this.#stopped) break;
      await sleep(Math.min(MAX_PAUSE_MILLIS, performance.now() - batchStarted));
    }
    const result = {
      server: server.index,
      deleted,
      durationMillis: Math.round(performance.now() - started),
    };
    this.#settings.onCollected(result);
    return result;
  }

  #runInBackground(task: () => Promise<unknown>): void {
    if (this.#running) return;
    this.#running = task()
      .catch(this.#settings.onFailed)
      .finally(() => {
        this.#running = undefined;
      });
  }

  /** Checks every `checkMillis`, with jitter so that processes do not fire together. */
  #schedule(): void {
    const periodMillis = Math.min(MAX_TIMER_MILLIS / 1.25, this.#settings.checkMillis);
    this.#timer = setTimeout(
      () => {
        this.#runInBackground(() => this.collectIfDue());
        void this.#running?.finally(() => {
          if (!this.#stopped) this.#schedule();
        });
      },
      periodMillis * (0.75 + Math.random() * 0.5),
    );
    this.#timer.unref();
  }
}
