/**
 * Shared pieces of the core tests: session ids, stores that are closed after the file,
 * a superuser connection for looking at (and tampering with) the table, and child processes.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, before } from 'node:test';
import pg from 'pg';
import { type GcResult, SessionPgsql, type SessionPgsqlOptions } from '../../src/index.js';
import { sharedDatabaseUrl } from '../helpers/postgres.js';
import type { StoredRow } from '../helpers/stored-row.js';

export { type StoredRow, storedKey } from '../helpers/stored-row.js';

export type Data = Record<string, unknown>;

/** A fresh session id matching the default idPattern (32 characters of base64url). */
export function newId(): string {
  return randomBytes(24).toString('base64url');
}

let tables = 0;
/** A table name no other test of this process uses. */
export function uniqueTable(prefix = 'sessions'): string {
  tables += 1;
  return `${prefix}_${process.pid}_${tables}`;
}

/** Opens stores and closes every one of them in `closeAll` (call it from `after`). */
export function storeTracker(): {
  open<D = Data>(options: SessionPgsqlOptions<D>): SessionPgsql<D>;
  closeAll(): Promise<void>;
} {
  const closers: (() => Promise<void>)[] = [];
  return {
    open<D = Data>(options: SessionPgsqlOptions<D>): SessionPgsql<D> {
      const store = new SessionPgsql<D>(options);
      closers.push(() => store.close());
      return store;
    },
    async closeAll(): Promise<void> {
      await Promise.all(closers.splice(0).map((close) => close()));
    },
  };
}

/** A superuser pool on the test database, for looking at rows the way an operator would. */
export function adminPool(url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max: 3 });
  pool.on('error', () => {});
  return pool;
}

/**
 * The usual setup of a test file: this file's shared database and a superuser pool on it,
 * handed to `ready` before the tests; every tracked store and the pool closed after them.
 */
export function useSharedDatabase(
  stores: ReturnType<typeof storeTracker>,
  ready: (url: string, admin: pg.Pool) => void,
): void {
  let admin: pg.Pool | undefined;
  before(async () => {
    const url = await sharedDatabaseUrl();
    admin = adminPool(url);
    ready(url, admin);
  });
  after(async () => {
    await stores.closeAll();
    await admin?.end();
  });
}

/** This file's shared database, as `useTestDatabase` hands it to the tests. */
export interface TestDatabase {
  /** Stores opened by the tests, closed after them. */
  readonly stores: ReturnType<typeof storeTracker>;
  /** URL of the database (superuser), once the tests run. */
  readonly url: string;
  /** A superuser pool on it, once the tests run. */
  readonly admin: pg.Pool;
}

/** `useSharedDatabase` with its tracker and handles in one object: the usual test file setup. */
export function useTestDatabase(): TestDatabase {
  const stores = storeTracker();
  let ready: { url: string; admin: pg.Pool } | undefined;
  useSharedDatabase(stores, (url, admin) => {
    ready = { url, admin };
  });
  const started = () => {
    if (!ready) throw new Error('the shared database is ready once the tests run');
    return ready;
  };
  return {
    stores,
    get url() {
      return started().url;
    },
    get admin() {
      return started().admin;
    },
  };
}

/** The 'failover' events of a store from now on: a test that expects none checks it is empty. */
export function failoverEvents<D>(store: SessionPgsql<D>): unknown[] {
  const events: unknown[] = [];
  store.on('failover', (event) => events.push(event));
  return events;
}

/** A table name quoted for SQL written by the tests. */
export function quoted(table: string): string {
  return table
    .split('.')
    .map((part) => pg.escapeIdentifier(part))
    .join('.');
}

/** The row stored for `key` (times as numbers), or undefined. */
export async function storedRow(
  admin: pg.Pool,
  table: string,
  key: string,
): Promise<StoredRow | undefined> {
  const { rows } = await admin.query<StoredRow>(
    `SELECT *, sess_created::float8 AS sess_created, sess_modified::float8 AS sess_modified,
       sess_expire::float8 AS sess_expire FROM ${quoted(table)} WHERE sess_id = $1`,
    [key],
  );
  return rows[0];
}

/** Moves a session's expiry (and optionally its creation) to `seconds` before the database's now. */
export async function expireInDatabase(
  admin: pg.Pool,
  table: string,
  key: string,
  options: { secondsAgo?: number; createdSecondsAgo?: number } = {},
): Promise<void> {
  const { rowCount } = await admin.query(
    `UPDATE ${quoted(table)} SET sess_expire = floor(extract(epoch from now()))::bigint - $2::bigint,
       sess_created = coalesce(floor(extract(epoch from now()))::bigint - $3::bigint, sess_created)
     WHERE sess_id = $1`,
    [key, options.secondsAgo ?? 10, options.createdSecondsAgo ?? null],
  );
  if (rowCount !== 1) throw new Error(`no row ${key} in ${table}`);
}

/** The database's clock, Unix seconds. */
export async function databaseNow(admin: pg.Pool): Promise<number> {
  const { rows } = await admin.query<{ now: number }>(
    'SELECT extract(epoch from now())::float8 AS now',
  );
  return rows[0]?.now ?? Number.NaN;
}

export interface Worker {
  readonly child: ChildProcessWithoutNullStreams;
  /** Resolves with the first stdout line that satisfies `match`. */
  waitFor(match: (line: string) => boolean): Promise<string>;
  /** Every stdout line so far. */
  readonly lines: readonly string[];
  /** Resolves with the exit code once the process has exited. */
  readonly exited: Promise<number | null>;
  stderr(): string;
}

/** Runs a TypeScript file of test/core/workers in a child process, through tsx. */
export function startWorker(script: string, args: readonly string[]): Worker {
  const path = new URL(`./workers/${script}`, import.meta.url).pathname;
  const child = spawn(process.execPath, ['--import', 'tsx', path, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  const waiters: { match: (line: string) => boolean; resolve: (line: string) => void }[] = [];
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    stderr += text;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  createInterface({ input: child.stdout }).on('line', (line) => {
    lines.push(line);
    for (const waiter of waiters.splice(0)) {
      if (waiter.match(line)) waiter.resolve(line);
      else waiters.push(waiter);
    }
  });
  return {
    child,
    lines,
    exited,
    stderr: () => stderr,
    waitFor(match) {
      const seen = lines.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ match, resolve });
        exited.then((code) =>
          reject(new Error(`worker ${script} exited (code ${code}) first; stderr:\n${stderr}`)),
        );
      });
    },
  };
}

/**
 * The next 'gc' event of a store. The collector's timer is unref()ed (it must not keep an
 * application alive), so this keeps the test process alive while it waits.
 */
export async function nextGc(store: SessionPgsql<Data>): Promise<GcResult> {
  const keepAlive = setInterval(() => {}, 1000);
  try {
    const [result] = (await once(store, 'gc')) as [GcResult];
    return result;
  } finally {
    clearInterval(keepAlive);
  }
}
