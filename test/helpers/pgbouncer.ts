/**
 * PgBouncer (Debian's `pgbouncer` package) in front of a test server
 * (test/helpers/postgres.ts). Fails, never skips, when pgbouncer is not installed.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Socket } from 'node:net';
import { join } from 'node:path';
import type pg from 'pg';
import type { PostgresServer } from './postgres.js';
import { freePort, onExit, runAs, signal } from './processes.js';
import { runQuery } from './query.js';
import { claim, newDataPath } from './test-data.js';

const maxLogChars = 1_000_000;

export interface PgBouncerOptions {
  /** PgBouncer's `pool_mode`. Default `transaction`. */
  poolMode?: 'session' | 'transaction' | 'statement';
  /**
   * Server connections per database and user (`default_pool_size`). Default 2, so that
   * clients share server connections, as behind a busy pooler.
   */
  poolSize?: number;
}

export interface PgBouncer {
  /** The server's superuser URL (database `postgres`), through PgBouncer. */
  readonly url: string;
  readonly port: number;
  readonly poolMode: 'session' | 'transaction' | 'statement';
  /** PID of the pgbouncer process while it runs. */
  readonly pid: number | undefined;
  /** The same user, password and database as `serverUrl` (a URL of the server behind), through PgBouncer. */
  urlFor(serverUrl: string): string;
  /** Runs a command of PgBouncer's admin console (`SHOW POOLS`, `SHOW STATS`, ...). */
  admin<R extends pg.QueryResultRow = pg.QueryResultRow>(command: string): Promise<R[]>;
  /** Everything pgbouncer printed. */
  logs(): string;
  /** Stops pgbouncer (SIGTERM: immediate shutdown) and removes its files. */
  stop(): Promise<void>;
}

/** The pgbouncer executable, from PATH or Debian's /usr/sbin. */
function findPgBouncer(): string {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    if (dir && existsSync(join(dir, 'pgbouncer'))) return join(dir, 'pgbouncer');
  }
  throw new Error('pgbouncer is not installed: apt-get install pgbouncer');
}

/**
 * Starts PgBouncer (Debian's `pgbouncer` package) on a free 127.0.0.1 port in front of
 * `server`: every database of the server passes through (`* = host=... port=...`), with
 * SCRAM authentication: the server's superuser from a userlist, any other role through
 * `auth_query`. Stopped by `stop()`, or when the process exits. Fails, never skips, when
 * pgbouncer is not installed.
 */
export async function startPgBouncer(
  server: Pick<PostgresServer, 'url' | 'port'>,
  options: PgBouncerOptions = {},
): Promise<PgBouncer> {
  const executable = findPgBouncer();
  const poolMode = options.poolMode ?? 'transaction';
  const serverUrl = new URL(server.url);
  const user = decodeURIComponent(serverUrl.username);
  const password = decodeURIComponent(serverUrl.password);
  const dir = newDataPath('pgbouncer');
  mkdirSync(dir, { recursive: true });
  claim(dir);
  const quote = (value: string) => `"${value.replace(/"/g, '""')}"`;
  writeFileSync(join(dir, 'userlist.txt'), `${quote(user)} ${quote(password)}\n`);
  const owner = runAs();
  if ('uid' in owner) {
    for (const file of ['', 'userlist.txt']) chownSync(join(dir, file), owner.uid, owner.gid);
  }
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const ini = join(dir, 'pgbouncer.ini');
    writeFileSync(
      ini,
      `[databases]
* = host=127.0.0.1 port=${server.port}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = ${port}
unix_socket_dir =
pidfile = ${join(dir, 'pgbouncer.pid')}
auth_type = scram-sha-256
auth_file = ${join(dir, 'userlist.txt')}
auth_user = ${user}
admin_users = ${user}
stats_users = ${user}
pool_mode = ${poolMode}
default_pool_size = ${options.poolSize ?? 2}
max_client_conn = 1000
ignore_startup_parameters = extra_float_digits
server_login_retry = 1
log_connections = 0
log_disconnections = 0
`,
    );
    const bouncer = new Bouncer(executable, dir, ini, port, poolMode, serverUrl);
    try {
      await bouncer.start();
      return bouncer;
    } catch (error) {
      bouncer.forget();
      if (attempt < 3 && /Address already in use/.test(bouncer.logs())) continue;
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
  }
}

class Bouncer implements PgBouncer {
  readonly url: string;
  readonly port: number;
  readonly poolMode: 'session' | 'transaction' | 'statement';
  readonly #executable: string;
  readonly #dir: string;
  readonly #ini: string;
  #logs = '';
  #process: ChildProcess | undefined;
  #exitReason: string | undefined;
  #exited: Promise<void> = Promise.resolve();
  readonly #unregister: () => void;

  constructor(
    executable: string,
    dir: string,
    ini: string,
    port: number,
    poolMode: 'session' | 'transaction' | 'statement',
    serverUrl: URL,
  ) {
    this.#executable = executable;
    this.#dir = dir;
    this.#ini = ini;
    this.port = port;
    this.poolMode = poolMode;
    this.url = this.urlFor(serverUrl.href);
    this.#unregister = onExit(() => {
      this.#kill();
      rmSync(this.#dir, { recursive: true, force: true });
    });
  }

  get pid(): number | undefined {
    return this.#process && this.#exitReason === undefined ? this.#process.pid : undefined;
  }

  urlFor(serverUrl: string): string {
    const url = new URL(serverUrl);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.href;
  }

  async admin<R extends pg.QueryResultRow = pg.QueryResultRow>(command: string): Promise<R[]> {
    const url = new URL(this.url);
    url.pathname = '/pgbouncer';
    // The admin console speaks the simple query protocol only: no parameters.
    return (await runQuery<R>(url.href, command)).rows;
  }

  logs(): string {
    return this.#logs;
  }

  async start(): Promise<void> {
    const child = spawn(this.#executable, [this.#ini], {
      ...runAs(),
      cwd: this.#dir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#process = child;
    this.#exited = new Promise((resolve) => {
      child.once('error', (error) => {
        this.#exitReason = error.message;
        resolve();
      });
      child.once('exit', (code, signalName) => {
        this.#exitReason = `pgbouncer exited (code ${code}, signal ${signalName})`;
        resolve();
      });
    });
    child.unref();
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (text: string) => {
        this.#logs = (this.#logs + text).slice(-maxLogChars);
      });
      if (stream instanceof Socket) stream.unref();
    }
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        if (this.#exitReason !== undefined) throw new Error(this.#exitReason);
        await this.admin('SHOW VERSION');
        return;
      } catch (error) {
        if (this.#exitReason !== undefined || Date.now() > deadline) {
          this.#kill();
          await this.#waitForExit();
          const reason = error instanceof Error ? error.message : String(error);
          throw new Error(
            `PgBouncer failed to start: ${reason}\n----- PgBouncer logs -----\n${this.#logs}`,
            { cause: error },
          );
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async #waitForExit(): Promise<void> {
    this.#process?.ref();
    await this.#exited;
  }

  async stop(): Promise<void> {
    const pid = this.pid;
    if (pid !== undefined) signal(pid, 'SIGTERM');
    await this.#waitForExit();
    this.#unregister();
    await rm(this.#dir, { recursive: true, force: true });
  }

  /** Forgets PgBouncer after a failed start (the caller removes or reuses its folder). */
  forget(): void {
    this.#unregister();
  }

  #kill(): void {
    const pid = this.pid;
    if (pid !== undefined) signal(pid, 'SIGKILL');
  }
}
