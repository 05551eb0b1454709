import type { Statement } from '../database/database.js';
import type { ListenConnection } from '../database/listen-connection.js';
import type { SessionCache } from './session-cache.js';

export interface InvalidationListenerSettings {
  readonly channel: string;
  /** Payloads are `<instance> <key>`; our own are ignored (we already updated our cache). */
  readonly instanceId: string;
  /**
   * How often the listener proves that notifications still reach it, and how long one may
   * take to come back (milliseconds). A connection that dies silently (a hung server, a lost
   * network path, a host that went away) delivers no notifications and no error, and one
   * that goes through a transaction pooler (PgBouncer in transaction mode) loses them:
   * without this proof the cache would serve what other processes changed until each
   * session's expiry. With it, the cache is on only once a notification came back, and goes
   * off within about twice this time after they stop coming.
   */
  readonly heartbeatMillis: number;
  readonly connect: () => Promise<ListenConnection>;
  /**
   * Runs `PING_STATEMENT` with these values the way the store's writes run (same pool,
   * same pooler): its notification must come back on the listening connection.
   */
  readonly ping: (values: readonly [channel: string, payload: string]) => Promise<unknown>;
  readonly onStateChange?: (listening: boolean, error?: unknown) => void;
}

/** The notification that proves notifications of the store's statements reach the listener. */
export const PING_STATEMENT: Statement = Object.freeze({
  name: 'session_pgsql_listen_ping',
  text: 'SELECT pg_notify($1::text, $2::text)',
});

const MAX_BACKOFF_MILLIS = 30_000;

/**
 * Keeps one server's cache coherent with every other process: LISTEN on a dedicated
 * connection; another process's write or destroy drops the key. While not listening
 * (not yet connected and proven, connection lost, or a ping not back in time) the cache is
 * disabled and emptied, so reads go to the database: losing notifications can never serve
 * a stale session for long.
 */
export class InvalidationListener {
  readonly #cache: SessionCache;
  readonly #settings: InvalidationListenerSettings;
  /** Our own channel for pings, so that other processes do not receive them. */
  readonly #pingChannel: string;
  #connection: ListenConnection | undefined;
  #starting: Promise<void> | undefined;
  #retry: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #awaitedPing: { payload: string; arrived: () => void } | undefined;
  #pings = 0;
  #failures = 0;
  #stopped = false;

  constructor(cache: SessionCache, settings: InvalidationListenerSettings) {
    this.#cache = cache;
    this.#settings = settings;
    const tag = settings.instanceId.replace(/[^0-9a-z]/gi, '').slice(0, 16);
    this.#pingChannel = `${settings.channel}_${tag}`.slice(0, 63);
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
      connection.on('notification', (message) =>
        this.#onNotification(message.channel, message.payload),
      );
      connection.on('error', (error) => this.#onLost(connection, error));
      connection.on('end', () =>
        this.#onLost(connection, new Error('the listening connection ended')),
      );
      await connection.query(`LISTEN "${this.#settings.channel}"; LISTEN "${this.#pingChannel}"`);
      // On only once a notification sent the way writes are sent has come back.
      await this.#ping();
      if (this.#stopped) throw new Error('stopped');
      this.#connection = connection;
      this.#failures = 0;
      // Notifications may have been missed before this point: start from nothing.
      this.#cache.flush();
      this.#cache.enabled = true;
      this.#beat(connection);
      this.#settings.onStateChange?.(true);
    } catch (error) {
      await connection?.close().catch(() => {});
      this.#onLost(undefined, error);
    }
  }

  #onNotification(channel: string, payload: string | undefined): void {
    if (channel === this.#pingChannel) {
      if (payload !== undefined && payload === this.#awaitedPing?.payload)
        this.#awaitedPing.arrived();
      return;
    }
    if (!payload) return;
    const space = payload.indexOf(' ');
    if (payload.slice(0, space) === this.#settings.instanceId) return;
    const key = payload.slice(space + 1);
    if (key === '*') this.#cache.flush();
    else this.#cache.invalidateNotified(key);
  }

  /** Sends a notification through the store's connections; resolves once it came back. */
  async #ping(): Promise<void> {
    this.#pings += 1;
    const payload = String(this.#pings);
    let timer: NodeJS.Timeout | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        this.#awaitedPing = { payload, arrived: resolve };
        timer = setTimeout(
          () =>
            reject(
              new Error(
                `a notification did not come back to the listening connection in ${this.#settings.heartbeatMillis} ms`,
              ),
            ),
          this.#settings.heartbeatMillis,
        );
        timer.unref();
        this.#settings.ping([this.#pingChannel, payload]).catch(reject);
      });
    } finally {
      clearTimeout(timer);
      if (this.#awaitedPing?.payload === payload) this.#awaitedPing = undefined;
    }
  }

  /** Proves now and then that notifications still arrive; if not, they are lost. */
  #beat(connection: ListenConnection): void {
    this.#heartbeat = setTimeout(() => {
      this.#ping().then(
        () => {
          if (connection === this.#connection) this.#beat(connection);
        },
        (error: unknown) => this.#onLost(connection, error),
      );
    }, this.#settings.heartbeatMillis);
    this.#heartbeat.unref();
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
    clearTimeout(this.#heartbeat);
    this.#cache.enabled = false;
    this.#cache.flush();
    const connection = this.#connection;
    this.#connection = undefined;
    void connection?.close().catch(() => {});
  }
}
