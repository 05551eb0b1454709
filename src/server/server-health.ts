import { MAX_TIMER_MILLIS } from '../options/option.js';

export interface ServerHealthSettings {
  /** Longest wait between two checks of a server that is down, in milliseconds. */
  readonly healthCheckMillis: number;
  /** Asks the server whether it answers (resolves) or not (rejects). */
  readonly check: () => Promise<unknown>;
  /** Told when the server goes down (with the error) and when it comes back. */
  readonly onChange: (up: boolean, error?: unknown) => void;
}

/** First wait before checking a server that went down; it doubles up to `healthCheckMillis`. */
const FIRST_CHECK_MILLIS = 250;

/**
 * Whether one server answers. A statement that could not reach it marks it down; it is
 * then checked with back-off (and jitter) until it answers, and marked up again.
 */
export class ServerHealth {
  readonly #settings: ServerHealthSettings;
  #down = false;
  /** Times the server was marked down: a success of a statement sent before then says nothing. */
  #downs = 0;
  #up: boolean | null = null;
  #lastError: string | null = null;
  #checks = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(settings: ServerHealthSettings) {
    this.#settings = settings;
  }

  /** False while the server is known to be down (between a failure and a successful check). */
  get available(): boolean {
    return !this.#down;
  }

  /** `true` after a statement succeeded, `false` after one failed to reach it, `null` before any. */
  get up(): boolean | null {
    return this.#up;
  }

  /** The last failure's message, if the last statement failed. */
  get lastError(): string | null {
    return this.#lastError;
  }

  /** Taken when a statement is sent, and handed back to `succeeded`. */
  get epoch(): number {
    return this.#downs;
  }

  /** A statement sent at `epoch` succeeded. */
  succeeded(epoch: number): void {
    if (epoch === this.#downs) this.#markUp();
  }

  /** A statement failed; `unreachable` when it could not reach the server at all. */
  failed(message: string, unreachable: boolean, error: unknown): void {
    this.#lastError = message;
    if (!unreachable) return;
    this.#up = false;
    if (this.#down) return;
    this.#down = true;
    this.#downs += 1;
    this.#settings.onChange(false, error);
    this.#schedule();
  }

  /** Forgets what is known (after a reconnect). */
  reset(): void {
    this.#up = null;
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #markUp(): void {
    this.#up = true;
    this.#lastError = null;
    if (!this.#down) return;
    this.#down = false;
    this.#checks = 0;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#settings.onChange(true);
  }

  #schedule(): void {
    if (this.#stopped) return;
    const wait = Math.min(
      this.#settings.healthCheckMillis,
      FIRST_CHECK_MILLIS * 2 ** Math.min(this.#checks, 20),
    );
    this.#checks += 1;
    this.#timer = setTimeout(
      () => {
        this.#settings.check().then(
          () => this.#markUp(),
          (error: unknown) => {
            this.#lastError = (error as Error).message;
            if (this.#down) this.#schedule();
          },
        );
      },
      Math.min(MAX_TIMER_MILLIS, wait * (0.75 + Math.random() / 2)),
    );
    this.#timer.unref();
  }
}
