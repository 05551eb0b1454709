import type { SessionCache } from './session-cache.js';

/** A dedicated connection that receives notifications (a `pg` Client, or a client held from a pool). */
export interface ListenConnection {
  query(text: string): Promise<unknown>;
  on(
    event: 'notification',
    listener: (message: { channel: string; payload?: string | undefined }) => void,
  ): unknown;
  on(event: 'error' | 'end', listener: (error?: Error) => void): unknown;
  /** Closes or releases the connection. */
  close(): Promise<void>;
}

export interface InvalidationListenerSettings {
  readonly channel: string;
  /** Payloads are `<instance> <key>`; our own are ignored (we already updated our cache). */
  readonly instanceId: string;
  readonly connect: () => Promise<ListenConnection>;
  readonly onStateChange?: (listening: boolean, error?: unknown) => void;
}

const MAX_BACKOFF_MILLIS = 30_000;

/**
 * Keeps one server's cache coherent with every other process: LISTEN on a dedicated
 * connection; another process's write or destroy drops the key. While not listening
 * (not yet connected, connection lost) the cache is disabled and emptied, so reads go to
 * the database: losing notifications can never serve a stale session for long.
 */
export class InvalidationListener {
  readonly #cache: SessionCache;
  readonly #settings: InvalidationListenerSettings;
  #connection: ListenConnection | undefined;
  #starting: Promise<void> | undefined;
  #retry: NodeJS.Timeout | undefined;
  #failures = 0;
  #stopped = false;

  constructor(cache: SessionCache, settings: InvalidationListenerSettings) {
    this.#cache = cache;
    this.#settings = settings;
  }

  get listening(): boolean {
    return this.#connection !== undefined;
  }

  /** Connects if not connected or connecting; called lazily on store access. */
  start(): void {
    if (this.#stopped || this.#connection || this.#starting || this.#retry) return;
    this.#starting = this.#connect().finally(() => {
      this.#starting = undefined;
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#retry);
    await this.#starting;
    this.#lost();
  }

  async #connect(): Promise<void> {
    let connection: ListenConnection | undefined;
    try {
      connection = await this.#settings.connect();
      connection.on('notification', (message) => this.#onNotification(message.payload));
      connection.on('error', (error) => this.#onLost(connection, error));
      connection.on('end', () =>
        this.#onLost(connection, new Error('the listening connection ended')),
      );
      await connection.query(`LISTEN "${this.#settings.channel}"`);
      if (this.#stopped) throw new Error('stopped');
      this.#connection = connection;
      this.#failures = 0;
      // Notifications may have been missed before this point: start from nothing.
      this.#cache.flush();
      this.#cache.enabled = true;
      this.#settings.onStateChange?.(true);
    } catch (error) {
      await connection?.close().catch(() => {});
      this.#onLost(undefined, error);
    }
  }

  #onNotification(payload: string | undefined): void {
    if (!payload) return;
    const space = payload.indexOf(' ');
    if (payload.slice(0, space) === this.#settings.instanceId) return;
    const key = payload.slice(space + 1);
    if (key === '*') this.#cache.flush();
    else this.#cache.invalidate(key);
  }

  #onLost(connection: ListenConnection | undefined, error: unknown): void {
    if (connection !== undefined && connection !== this.#connection) return;
    this.#lost();
    if (this.#stopped) return;
    this.#settings.onStateChange?.(false, error);
    this.#failures += 1;
    const backoff = Math.min(MAX_BACKOFF_MILLIS, 250 * 2 ** Math.min(this.#failures, 7));
    this.#retry = setTimeout(
      () => {
        this.#retry = undefined;
        this.start();
      },
      backoff * (0.5 + Math.random() / 2),
    );
    this.#retry.unref();
  }

  #lost(): void {
    this.#cache.enabled = false;
    this.#cache.flush();
    const connection = this.#connection;
    this.#connection = undefined;
    void connection?.close().catch(() => {});
  }
}
