/**
 * The in-process cache (`cache: true`) kept coherent across processes with LISTEN/NOTIFY.
 * Two app processes (test/cache/workers/cache-worker.ts), each with its own store and
 * cache on the same table: A writes and destroys, B reads; B listens through a role of its
 * own (`cacheListenDb`), so that the test can cut B's notifications for real.
 */
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { SessionPgsqlOptions } from '../../src/index.js';
import {
  adminPool,
  type Data,
  newId,
  quoted,
  storedKey,
  storeTracker,
  uniqueTable,
} from '../core/fixtures.js';
import { sharedDatabaseUrl } from '../helpers/postgres.js';
import type {
  Command,
  ReadResult,
  Reply,
  StatusResult,
  WatchResult,
} from './workers/cache-worker.js';

/** Longest wait for something that must happen (a hang guard, not a timing claim). */
const GUARD_MILLIS = 5_000;
/** Sessions each process's cache may hold. */
const MAX_ENTRIES = 50;
/**
 * cacheHeartbeatMillis of both processes: how long lost notifications can go unnoticed is
 * about twice this. Still far above a notification's round trip on a busy machine (a late
 * one turns the cache off, which the tests that expect it on would see).
 */
const HEARTBEAT_MILLIS = 500;

/** An app process with a cached store, driven over stdin/stdout. */
class Worker {
  readonly name: string;
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #pending = new Map<number, (reply: Reply) => void>();
  readonly #watchers: ((line: Record<string, unknown>) => void)[] = [];
  readonly #exited: Promise<number | null>;
  #seq = 0;
  #stderr = '';

  constructor(name: string, options: SessionPgsqlOptions<Data>) {
    this.name = name;
    const path = new URL('./workers/cache-worker.ts', import.meta.url).pathname;
    this.#child = spawn(process.execPath, ['--import', 'tsx', path, JSON.stringify(options)], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.#child.stderr.setEncoding('utf8');
    this.#child.stderr.on('data', (text: string) => {
      this.#stderr += text;
    });
    this.#exited = new Promise((resolve) => this.#child.once('exit', resolve));
    void this.#exited.then((code) => {
      for (const reject of this.#pending.values()) {
        reject({ seq: -1, ok: false, at: 0, error: this.#died(code) });
      }
      this.#pending.clear();
    });
    createInterface({ input: this.#child.stdout }).on('line', (text) => {
      const line = JSON.parse(text) as Record<string, unknown>;
      if (typeof line.seq === 'number') {
        this.#pending.get(line.seq)?.(line as unknown as Reply);
        this.#pending.delete(line.seq);
      } else {
        for (const watcher of this.#watchers.splice(0)) watcher(line);
      }
    });
  }

  #died(code: number | null): string {
    return `worker ${this.name} exited (code ${code}); stderr:\n${this.#stderr}`;
  }

  /** Resolves once the worker printed its ready line. */
  ready(): Promise<void> {
    return this.#next('ready');
  }

  #next(key: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#watchers.push((line) => (key in line ? resolve() : reject(new Error(`got ${key}`))));
      void this.#exited.then((code) => reject(new Error(this.#died(code))));
    });
  }

  /** Runs a command; resolves with its result and the moment it finished there. */
  async call<T>(command: Command): Promise<{ result: T; at: number }> {
    this.#seq += 1;
    const reply = await new Promise<Reply>((resolve) => {
      this.#pending.set(this.#seq, resolve);
      this.#child.stdin.write(`${JSON.stringify(command)}\n`);
    });
    if (!reply.ok) throw new Error(`${this.name} ${command.op}: ${reply.error}`);
    return { result: reply.result as T, at: reply.at };
  }

  async write(id: string, data: Data, lifetimeSeconds?: number): Promise<number> {
    const command = lifetimeSeconds === undefined ? {} : { lifetimeSeconds };
    return (await this.call({ op: 'write', id, data, ...command })).at;
  }

  async read(id: string): Promise<ReadResult> {
    return (await this.call<ReadResult>({ op: 'read', id })).result;
  }

  async destroy(id: string): Promise<number> {
    return (await this.call({ op: 'destroy', id })).at;
  }

  async status(): Promise<StatusResult> {
    return (await this.call<StatusResult>({ op: 'status' })).result;
  }

  /**
   * Starts reading `id` in a loop; resolves (with the moment the watch began) once the
   * first read was made. `seen` resolves when a read returns `equals` (default: nothing).
   */
  async watch(
    id: string,
    equals?: Data,
    guardMillis = GUARD_MILLIS,
  ): Promise<{ seen: Promise<WatchResult> }> {
    const watching = this.#next('watching');
    const command = equals === undefined ? {} : { equals };
    const seen = this.call<WatchResult>({ op: 'watch', id, guardMillis, ...command });
    seen.catch(() => {}); // awaited by the caller
    await watching;
    return { seen: seen.then(({ result }) => result) };
  }

  async close(): Promise<void> {
    this.#child.stdin.end();
    const code = await this.#exited;
    assert.equal(code, 0, this.#died(code));
  }
}

let url: string;
let admin: pg.Pool;
let table: string;
let listenRole: string;
let a: Worker;
let b: Worker;
const stores = storeTracker();

/** The URL with an application_name, to find a process's connections in pg_stat_activity. */
function named(base: string, applicationName: string): string {
  const result = new URL(base);
  result.searchParams.set('application_name', applicationName);
  return result.href;
}

before(async () => {
  url = await sharedDatabaseUrl();
  admin = adminPool(url);
  table = uniqueTable('cache');
  listenRole = `spg_listen_${process.pid}`;
  await admin.query(`CREATE ROLE ${quoted(listenRole)} LOGIN PASSWORD 'listen'`);
  const listenUrl = new URL(url);
  listenUrl.username = listenRole;
  listenUrl.password = 'listen';
  const common = {
    table,
    gcInterval: 0,
    cache: true,
    cacheMaxEntries: MAX_ENTRIES,
    cacheHeartbeatMillis: HEARTBEAT_MILLIS,
  };
  a = new Worker('A', { ...common, db: named(url, `spg_cache_a_${process.pid}`) });
  b = new Worker('B', {
    ...common,
    db: named(url, `spg_cache_b_${process.pid}`),
    cacheListenDb: named(listenUrl.href, `spg_listen_b_${process.pid}`),
  });
  await Promise.all([a.ready(), b.ready()]);
  await eventually('both caches enabled (listening)', async () => {
    const [sa, sb] = await Promise.all([a.status(), b.status()]);
    return sa.enabled && sb.enabled;
  });
});

after(async () => {
  await stores.closeAll();
  await Promise.all([a?.close(), b?.close()]);
  await admin?.query(`DROP ROLE IF EXISTS ${quoted(listenRole)}`);
  await admin?.end();
});

/** Polls `check` until it holds; fails after `guardMillis`. */
async function eventually(
  what: string,
  check: () => Promise<unknown>,
  guardMillis = GUARD_MILLIS,
): Promise<void> {
  const deadline = Date.now() + guardMillis;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${guardMillis} ms: ${what}`);
    await sleep(10);
  }
}

/** Reads until a read is served by `worker`'s cache (no SQL), and returns that read. */
async function servedFromCache(worker: Worker, id: string): Promise<ReadResult> {
  let last: ReadResult | undefined;
  await eventually(`${worker.name} serves the session from its cache`, async () => {
    last = await worker.read(id);
    return last.sqlReads === 0;
  });
  assert.ok(last);
  return last;
}

/** The backend of B's listening connection (the only one of its listening role). */
async function listenerPid(): Promise<number> {
  const { rows } = await admin.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE usename = $1',
    [listenRole],
  );
  assert.equal(rows.length, 1, 'B has one listening connection');
  return rows[0]?.pid ?? 0;
}

function summary(millis: number[]): string {
  const sorted = [...millis].sort((x, y) => x - y);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  const ms = (n: number | undefined) => `${(n ?? Number.NaN).toFixed(2)} ms`;
  return `n=${sorted.length} min ${ms(sorted[0])}, median ${ms(at(0.5))}, p90 ${ms(at(0.9))}, max ${ms(sorted.at(-1))}`;
}

describe('two processes with the cache on, one table', () => {
  it('a read served from the cache runs no SQL', async () => {
    const id = newId();
    await a.write(id, { user: 'ann' });
    const first = await b.read(id);
    assert.deepEqual(first.data, { user: 'ann' });
    await servedFromCache(b, id);
    const before = (await b.status()).statements.read ?? 0;
    for (let i = 0; i < 10; i++) {
      const read = await b.read(id);
      assert.deepEqual(read.data, { user: 'ann' });
      assert.equal(read.sqlReads, 0);
    }
    assert.equal((await b.status()).statements.read ?? 0, before);
  });

  it('a destroy (logout) on A is seen on B: the window, measured', async () => {
    const windows: number[] = [];
    for (let i = 0; i < 20; i++) {
      const id = newId();
      await a.write(id, { user: 'ann', i });
      await servedFromCache(b, id);
      const { seen } = await b.watch(id);
      const acknowledged = await a.destroy(id);
      const result = await seen;
      assert.ok(result.polls >= 1, 'B served the session until then');
      assert.equal(result.sqlReadsWhileOld, 0, 'from its cache');
      windows.push(result.seenAt - acknowledged);
    }
    console.log(
      `cache: a destroy acknowledged to process A -> process B stops serving it: ${summary(windows)}`,
    );
  });

  it('a write on A is seen on B', async () => {
    const windows: number[] = [];
    for (let i = 0; i < 20; i++) {
      const id = newId();
      await a.write(id, { v: 1 });
      await servedFromCache(b, id);
      const { seen } = await b.watch(id, { v: 2 });
      const acknowledged = await a.write(id, { v: 2 });
      const result = await seen;
      assert.equal(result.sqlReadsWhileOld, 0, 'B served the old value from its cache');
      windows.push(result.seenAt - acknowledged);
    }
    console.log(
      `cache: a write acknowledged to process A -> process B serves the new value: ${summary(windows)}`,
    );
  });

  it('clear() on A empties the cache of B', async () => {
    const ids = [newId(), newId(), newId()];
    for (const id of ids) await a.write(id, { id });
    for (const id of ids) await servedFromCache(b, id);
    assert.ok((await b.status()).entries >= ids.length);
    await a.call({ op: 'clear' });
    await eventually('B flushed', async () => (await b.status()).entries === 0);
    for (const id of ids) assert.equal((await b.read(id)).data, null);
  });

  it('holds at most cacheMaxEntries sessions, the most recently used', async () => {
    const ids = Array.from({ length: MAX_ENTRIES * 4 }, newId);
    for (const id of ids) await a.write(id, { id });
    for (const id of ids) assert.deepEqual((await b.read(id)).data, { id });
    const status = await b.status();
    assert.equal(status.entries, MAX_ENTRIES);
    // the last ones read are held, the first ones are not
    for (const id of ids.slice(-10)) assert.equal((await b.read(id)).sqlReads, 0);
    assert.equal((await b.read(ids[0] ?? '')).sqlReads, 1);
    // writes are cached too, and bounded the same way
    for (const id of ids) await b.write(id, { id, again: true });
    assert.equal((await b.status()).entries, MAX_ENTRIES);
    // and B's writes dropped A's copies of those sessions
    await eventually('A dropped what B changed', async () => (await a.status()).entries === 0);
  });

  it('is not served past the expiry', async () => {
    const id = newId();
    await a.write(id, { short: true }, 2);
    await servedFromCache(b, id);
    // wait until the database itself says the session has expired
    await eventually(
      'the session expired in the database',
      async () => {
        const { rows } = await admin.query<{ expired: boolean }>(
          `SELECT sess_expire < floor(extract(epoch from now()))::bigint AS expired
           FROM ${quoted(table)} WHERE sess_id = $1`,
          [storedKey(id)],
        );
        return rows[0]?.expired;
      },
      10_000,
    );
    assert.equal((await b.read(id)).data, null);
  });

  it('expired through SQL, then written again by A: B serves the new session', async () => {
    const id = newId();
    await a.write(id, { old: true });
    assert.equal((await a.read(id)).accesses, 1);
    await a.write(id, { old: true, more: 1 });
    const cached = await servedFromCache(b, id);
    assert.equal(cached.accesses, 2);
    await admin.query(
      `UPDATE ${quoted(table)} SET sess_expire = floor(extract(epoch from now()))::bigint - 60
       WHERE sess_id = $1`,
      [storedKey(id)],
    );
    const { seen } = await b.watch(id, { fresh: true });
    await a.write(id, { fresh: true });
    await seen;
    // a new session: the expired row's counter did not carry on
    assert.deepEqual(await b.read(id), { data: { fresh: true }, accesses: 1, sqlReads: 0 });
  });

  it('turns itself off while the listening connection is gone, and back on after reconnecting', async () => {
    const id = newId();
    await a.write(id, { v: 1 });
    await servedFromCache(b, id);
    // B may not log in again for now: its cache must stay off
    await admin.query(`ALTER ROLE ${quoted(listenRole)} NOLOGIN`);
    try {
      await admin.query('SELECT pg_terminate_backend($1)', [await listenerPid()]);
      await eventually('B turned its cache off', async () => !(await b.status()).enabled);
      assert.equal((await b.status()).entries, 0, 'and emptied it');
      // A's notification of this write is lost for B: B must read from the database
      await a.write(id, { v: 2 });
      for (let i = 0; i < 3; i++) {
        assert.deepEqual(await b.read(id), { data: { v: 2 }, accesses: 2, sqlReads: 1 });
      }
      assert.equal((await b.status()).enabled, false);
    } finally {
      await admin.query(`ALTER ROLE ${quoted(listenRole)} LOGIN`);
    }
    // back-off: the next attempt comes within a few seconds
    await eventually('B listens again', async () => (await b.status()).enabled, 15_000);
    assert.deepEqual((await servedFromCache(b, id)).data, { v: 2 });
    const { seen } = await b.watch(id, { v: 3 });
    await a.write(id, { v: 3 });
    assert.equal((await seen).sqlReadsWhileOld, 0);
  });

  it('turns itself off when the listening connection hangs (notifications silently lost)', async () => {
    const id = newId();
    await a.write(id, { v: 1 });
    await servedFromCache(b, id);
    const pid = await listenerPid();
    process.kill(pid, 'SIGSTOP'); // B's listening backend: alive, silent
    try {
      const { seen } = await b.watch(id, { v: 2 }, 15_000);
      const acknowledged = await a.write(id, { v: 2 });
      const result = await seen;
      console.log(
        `cache: with B's listening backend stopped, B served the old value for ${(result.seenAt - acknowledged).toFixed(0)} ms after the write`,
      );
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await eventually('B listens again', async () => (await b.status()).enabled, 15_000);
    // on a new connection: the stopped backend goes away once it runs again
    await eventually('one listening backend, a new one', async () => {
      const { rows } = await admin.query<{ pid: number }>(
        'SELECT pid FROM pg_stat_activity WHERE usename = $1',
        [listenRole],
      );
      return rows.length === 1 && rows[0]?.pid !== pid;
    });
  });
});

describe('one process: its own destroy while one of its reads is in flight', () => {
  it('does not leave the destroyed session in its cache', async () => {
    const t = uniqueTable('cache_own');
    const store = stores.open<Data>({ db: url, table: t, gcInterval: 0, cache: true });
    await eventually('the cache is on', async () => {
      return (await store.status()).servers[0]?.cache?.enabled;
    });
    const id = newId();
    await store.write(id, { user: 'ann' });
    // another transaction holds the row: the DELETE waits, reads do not
    const holder = await admin.connect();
    let destroyed: Promise<void> | undefined;
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT 1 FROM ${quoted(t)} WHERE sess_id = $1 FOR UPDATE`, [
        storedKey(id),
      ]);
      destroyed = store.destroy(id);
      await eventually('the DELETE waits for the row lock', async () => {
        const { rows } = await admin.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock'
             AND query LIKE 'DELETE FROM %'`,
        );
        return rows[0]?.n === 1;
      });
      // a request reads the session meanwhile: it is still there
      assert.deepEqual((await store.read(id))?.data, { user: 'ann' });
    } finally {
      await holder.query('COMMIT');
      holder.release();
    }
    await destroyed;
    assert.equal(await store.read(id), undefined);
  });
});
