/**
 * The store behind PgBouncer (Debian's `pgbouncer`) in transaction pooling mode, in front of
 * a PostgreSQL server of this file's own: every statement of a client may run on another
 * server connection, and server connections are shared by all clients. Fails (never skips)
 * when pgbouncer is not installed.
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { GcResult, SessionPgsql, SessionPgsqlOptions } from '../../src/index.js';
import {
  adminPool,
  type Data,
  expireInDatabase,
  newId,
  quoted,
  startWorker,
  storedKey,
  storedRow,
  storeTracker,
  uniqueTable,
} from '../core/fixtures.js';
import { startApp } from '../helpers/express-app.js';
import { type PgBouncer, startPgBouncer } from '../helpers/pgbouncer.js';
import { type PostgresServer, startPostgres } from '../helpers/postgres.js';

/** Server connections PgBouncer keeps per database and user: fewer than the store's clients. */
const SERVER_CONNECTIONS = 2;

let server: PostgresServer;
let bouncer: PgBouncer;
/** The test database, directly on the server (superuser). */
let direct: string;
/** The same database through PgBouncer. */
let viaBouncer: string;
let database: string;
let admin: pg.Pool;
const stores = storeTracker();

before(async () => {
  server = await startPostgres({ name: 'pgbouncer' });
  direct = await server.createDatabase();
  database = new URL(direct).pathname.slice(1);
  bouncer = await startPgBouncer(server, {
    poolMode: 'transaction',
    poolSize: SERVER_CONNECTIONS,
  });
  viaBouncer = bouncer.urlFor(direct);
  const adminUrl = new URL(direct);
  adminUrl.searchParams.set('application_name', 'spg_admin');
  admin = adminPool(adminUrl.href);
});
// Stores of a test must not run statements (background collection) during the next one.
afterEach(() => stores.closeAll());
after(async () => {
  await stores.closeAll();
  await admin?.end();
  await bouncer?.stop();
  await server?.destroy();
});

interface PoolRow {
  database: string;
  user: string;
  pool_mode: string;
}

/** Transactions PgBouncer ran on the test database so far (SHOW STATS). */
async function bouncerTransactions(): Promise<number> {
  const rows = await bouncer.admin<{ database: string; total_xact_count: string }>('SHOW STATS');
  return Number(rows.find((row) => row.database === database)?.total_xact_count ?? 0);
}

/** Client connections PgBouncer holds for the test database (SHOW CLIENTS). */
async function bouncerClients(): Promise<number> {
  const rows = await bouncer.admin<{ database: string }>('SHOW CLIENTS');
  return rows.filter((row) => row.database === database).length;
}

/** Backends of the test database on the server, besides the one asking. */
async function serverBackends(): Promise<number> {
  const { rows } = await admin.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity
     WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'
       AND coalesce(application_name, '') NOT IN ('spg_admin', 'spg_listen')`,
  );
  return rows[0]?.n ?? 0;
}

/** Server errors about our named statements: collisions a transaction pooler causes. */
function preparedStatementErrors(): number {
  return (
    server.logs().match(/prepared statement "session_pgsql_\w+" (?:already exists|does not exist)/g)
      ?.length ?? 0
  );
}

/**
 * Runs `body` and checks that its traffic went through PgBouncer in transaction mode:
 * PgBouncer counted transactions on the test database, and the server never had more
 * backends for it than PgBouncer's pool, while more clients than that were connected.
 */
async function throughBouncer(body: () => Promise<void>): Promise<void> {
  const before = await bouncerTransactions();
  let maxBackends = 0;
  let maxClients = 0;
  let running = true;
  const watching = (async () => {
    while (running) {
      maxBackends = Math.max(maxBackends, await serverBackends());
      maxClients = Math.max(maxClients, await bouncerClients());
      await sleep(5);
    }
  })();
  try {
    await body();
  } finally {
    running = false;
    await watching;
  }
  const pools = await bouncer.admin<PoolRow>('SHOW POOLS');
  const pool = pools.find((row) => row.database === database && row.user === 'postgres');
  assert.equal(pool?.pool_mode, 'transaction');
  assert.ok((await bouncerTransactions()) > before, 'PgBouncer ran the transactions');
  assert.ok(
    maxBackends <= SERVER_CONNECTIONS,
    `at most ${SERVER_CONNECTIONS} server backends, saw ${maxBackends}`,
  );
  assert.ok(maxClients >= 1, 'the store was connected to PgBouncer');
}

describe('PgBouncer in transaction mode, in front of its own server', () => {
  it('multiplexes clients onto shared server connections', async () => {
    assert.equal(bouncer.poolMode, 'transaction');
    const clients = Array.from({ length: 5 }, () => new pg.Client(viaBouncer));
    try {
      for (const client of clients) await client.connect();
      await Promise.all(clients.map((client) => client.query('SELECT pg_sleep(0.05)')));
      assert.ok((await serverBackends()) <= SERVER_CONNECTIONS);
      assert.ok((await bouncerClients()) >= 5);
    } finally {
      await Promise.all(clients.map((client) => client.end()));
    }
  });

  it('makes named prepared statements collide (what the store must survive)', async () => {
    // Three clients prepare one name over two server connections: one of them finds it there.
    const clients = Array.from({ length: SERVER_CONNECTIONS + 1 }, () => new pg.Client(viaBouncer));
    const codes: string[] = [];
    try {
      for (const client of clients) await client.connect();
      for (const client of clients) {
        try {
          await client.query({ name: 'spg_collide', text: 'SELECT $1::int AS n', values: [1] });
          codes.push('ok');
        } catch (error) {
          codes.push(String((error as { code?: unknown }).code));
        }
      }
    } finally {
      await Promise.all(clients.map((client) => client.end()));
    }
    assert.ok(
      codes.some((code) => code === '42P05' || code === '26000'),
      `expected a collision, got ${codes.join(', ')}`,
    );
  });
});

for (const preparedStatements of [true, false]) {
  const label = preparedStatements
    ? 'preparedStatements: true (the default)'
    : 'preparedStatements: false';
  describe(`the store through PgBouncer, ${label}`, () => {
    const prepared: { preparedStatements?: boolean } = preparedStatements
      ? {}
      : { preparedStatements };
    const open = (options: SessionPgsqlOptions<Data> = {}): SessionPgsql<Data> =>
      stores.open({ db: viaBouncer, gcInterval: 0, ...prepared, ...options });
    let errorsBefore = 0;

    before(() => {
      errorsBefore = preparedStatementErrors();
    });

    it('creates the table once when several stores start at once', async () => {
      await throughBouncer(async () => {
        const table = uniqueTable('bouncer');
        const many = Array.from({ length: 6 }, () => open({ table }));
        const ids = many.map(() => newId());
        await Promise.all(many.map((store, i) => store.write(ids[i] ?? '', { i })));
        for (const [i, store] of many.entries()) {
          assert.deepEqual((await store.read(ids[(i + 1) % ids.length] ?? ''))?.data, {
            i: (i + 1) % ids.length,
          });
        }
        const { rows } = await admin.query<{ n: number }>(
          'SELECT count(*)::int AS n FROM pg_indexes WHERE tablename = $1',
          [table],
        );
        assert.equal(rows[0]?.n, 2, 'the primary key and the expiry index');
      });
    });

    it('write, read, touch and destroy', async () => {
      await throughBouncer(async () => {
        const table = uniqueTable('bouncer');
        const store = open({ table, poolSize: 4 });
        const id = newId();
        await store.write(id, { user: 'ann' }, { lifetimeSeconds: 600, address: '10.0.0.1' });
        const loaded = await store.read(id);
        assert.deepEqual(loaded?.data, { user: 'ann' });
        assert.equal(loaded?.state.info().createdAddress, '10.0.0.1');
        await expireInDatabase(admin, table, storedKey(id), { secondsAgo: -60 }); // 60 s left
        assert.equal(await store.touch(id, { lifetimeSeconds: 600 }), true);
        const row = await storedRow(admin, table, storedKey(id));
        assert.ok((row?.sess_expire ?? 0) - (row?.sess_modified ?? 0) === 600);
        assert.equal(row?.sess_counter, 2);
        await store.destroy(id);
        assert.equal(await store.read(id), undefined);
        assert.equal(await storedRow(admin, table, storedKey(id)), undefined);
        // many operations at once over the store's clients and PgBouncer's two connections
        const ids = Array.from({ length: 40 }, newId);
        await Promise.all(ids.map((one, i) => store.write(one, { i })));
        const read = await Promise.all(ids.map((one) => store.read(one)));
        assert.deepEqual(
          read.map((r) => r?.data),
          ids.map((_, i) => ({ i })),
        );
        assert.equal(await store.length(), 40);
        await Promise.all(ids.map((one) => store.destroy(one)));
        assert.equal(await store.length(), 0);
      });
    });

    it('a new store whose first statements all run at once', async () => {
      await throughBouncer(async () => {
        const table = uniqueTable('bouncer');
        await open({ table }).length(); // the table exists: the next store starts with writes
        for (let round = 0; round < 5; round++) {
          const store = open({ table, poolSize: 10 });
          const ids = Array.from({ length: 30 }, newId);
          await Promise.all(ids.map((id, i) => store.write(id, { i })));
          const read = await Promise.all(ids.map((id) => store.read(id)));
          assert.deepEqual(
            read.map((r) => r?.data),
            ids.map((_, i) => ({ i })),
          );
        }
      });
    });

    it('the short circuit: no statement for an unchanged session in its window', async () => {
      await throughBouncer(async () => {
        const store = open({ table: uniqueTable('bouncer'), shortCircuit: true });
        const id = newId();
        await store.write(id, { n: 1 });
        const loaded = await store.read(id);
        assert.ok(loaded);
        const before = await bouncerTransactions();
        assert.equal(await store.write(id, { n: 1 }, { state: loaded.state }), false);
        assert.equal(await store.touch(id, { state: loaded.state }), false);
        assert.equal(await bouncerTransactions(), before, 'nothing reached PgBouncer');
        assert.equal(await store.write(id, { n: 2 }, { state: loaded.state }), true);
        assert.deepEqual((await store.read(id))?.data, { n: 2 });
      });
    });

    it("collects expired sessions, claiming the collection with the '!gc' row", async () => {
      await throughBouncer(async () => {
        const table = uniqueTable('bouncer');
        const manual = open({ table, gcBatchSize: 3 });
        const ids = Array.from({ length: 7 }, newId);
        for (const id of ids) await manual.write(id, { id });
        for (const id of ids.slice(0, 5)) await expireInDatabase(admin, table, storedKey(id));
        assert.equal(await manual.gc(), 5);
        assert.equal(await manual.length(), 2);
        // the fleet-wide periodic collection: two stores, the claim row decides
        for (const id of ids.slice(5)) await expireInDatabase(admin, table, storedKey(id));
        const a = open({ table, gcInterval: 4, gcCheckMillis: 20 });
        const b = open({ table, gcInterval: 4, gcCheckMillis: 20 });
        const events: GcResult[] = [];
        a.on('gc', (event) => events.push(event));
        b.on('gc', (event) => events.push(event));
        await Promise.all([a.length(), b.length()]); // the first access starts the schedules
        await eventually('a periodic collection', async () => events.length > 0);
        assert.equal(events[0]?.deleted, 2);
        const marker = await storedRow(admin, table, '!gc');
        assert.ok(marker, 'the claim row exists');
        assert.ok(marker.sess_counter >= 1);
        assert.equal(await a.length(), 0);
      });
    });

    it('keeps the metadata: counters, custom field, addresses', async () => {
      await throughBouncer(async () => {
        const store = open({ table: uniqueTable('bouncer') });
        const id = newId();
        const state = store.newState(id);
        state.setField('audit');
        state.addError('warning', 'disk almost full');
        await store.write(id, { a: 1 }, { state, address: '192.0.2.1' });
        const loaded = await store.read(id);
        assert.ok(loaded);
        loaded.state.addError('error');
        await store.touch(id, { state: loaded.state, address: '192.0.2.2' });
        const info = (await store.read(id))?.state.info();
        assert.equal(info?.custom, 'audit');
        assert.equal(info?.errors, 1);
        assert.equal(info?.warnings, 1);
        assert.equal(info?.errorMessage, 'disk almost full');
        assert.equal(info?.accesses, 2);
        assert.equal(info?.createdAddress, '192.0.2.1');
        assert.equal(info?.modifiedAddress, '192.0.2.2');
      });
    });

    it('merges concurrent writes to one session: no key lost', async () => {
      await throughBouncer(async () => {
        const table = uniqueTable('bouncer');
        const a = open({ table });
        const b = open({ table });
        const id = newId();
        await a.write(id, { start: true });
        await Promise.all(
          Array.from({ length: 20 }, async (_, i) => {
            const store = i % 2 === 0 ? a : b;
            const loaded = await store.read(id);
            assert.ok(loaded?.data);
            await store.write(id, { ...loaded.data, [`k${i}`]: i }, { state: loaded.state });
          }),
        );
        const expected: Data = { start: true };
        for (let i = 0; i < 20; i++) expected[`k${i}`] = i;
        assert.deepEqual((await a.read(id))?.data, expected);
        assert.equal((await storedRow(admin, table, storedKey(id)))?.sess_counter, 21);
      });
    });

    it('serves an Express app over HTTP', async () => {
      await throughBouncer(async () => {
        const table = uniqueTable('bouncer');
        const app = await startApp({ store: { db: viaBouncer, table, ...prepared } });
        try {
          const clients = Array.from({ length: 4 }, () => app.client());
          await Promise.all(
            clients.map(async (client) => {
              for (let n = 0; n < 3; n++) await client.post('/increment');
            }),
          );
          for (const client of clients) {
            const reply = await client.get('/session');
            assert.equal(reply.status, 200);
            assert.deepEqual(reply.body.data, { counter: 3 });
          }
          const [first] = clients;
          assert.ok(first?.sessionId);
          const id = first.sessionId;
          assert.equal((await first.post('/logout')).status, 200);
          assert.equal(await storedRow(admin, table, storedKey(id)), undefined);
          const after = await first.get('/session');
          assert.deepEqual(after.body.data, {});
          assert.notEqual(after.body.id, id);
          assert.deepEqual(app.errors, []);
        } finally {
          await app.close();
        }
      });
    });

    it(
      preparedStatements
        ? 'ran into prepared statement collisions and went on without names'
        : 'never used a named statement',
      () => {
        const errors = preparedStatementErrors() - errorsBefore;
        if (preparedStatements) assert.ok(errors > 0, 'the server reported collisions');
        else assert.equal(errors, 0);
      },
    );
  });
}

describe('several processes through PgBouncer', () => {
  it('create the table once when they start at once', async () => {
    const table = `${uniqueTable('race')}`;
    const workers = Array.from({ length: 4 }, () =>
      startWorker('start-store.ts', [viaBouncer, table]),
    );
    try {
      await Promise.all(workers.map((w) => w.waitFor((line) => line === 'ready')));
      for (const worker of workers) worker.child.stdin.end('go\n');
      const results = await Promise.all(
        workers.map(async (w) => JSON.parse(await w.waitFor((line) => line.startsWith('{')))),
      );
      for (const [i, result] of results.entries()) {
        const pid = workers[i]?.child.pid;
        assert.deepEqual(result, { ok: true, pid, data: { pid } });
      }
      assert.deepEqual(await Promise.all(workers.map((w) => w.exited)), [0, 0, 0, 0]);
    } finally {
      for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill();
    }
    const { rows } = await admin.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${quoted(table)}`,
    );
    assert.deepEqual(rows, [{ n: 4 }]);
  });
});

describe('the cache through PgBouncer, listening directly on the server', () => {
  it('a destroy or a write on one store is seen by the other', async () => {
    const table = uniqueTable('bouncer');
    const listen = new URL(direct);
    listen.searchParams.set('application_name', 'spg_listen');
    const options = { table, cache: true, cacheListenDb: listen.href };
    const a = open2(options);
    const b = open2(options);
    await throughBouncer(async () => {
      await eventually('both caches enabled', async () => {
        const [sa, sb] = await Promise.all([a.status(), b.status()]);
        return sa.servers[0]?.cache?.enabled && sb.servers[0]?.cache?.enabled;
      });
      const { rows } = await admin.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
         WHERE application_name = 'spg_listen' AND query LIKE 'LISTEN %'`,
      );
      assert.equal(rows[0]?.n, 2, 'each store listens on a direct connection');
      const id = newId();
      await a.write(id, { v: 1 });
      assert.deepEqual((await b.read(id))?.data, { v: 1 });
      // once cached (a notification of a's write may drop the first read's entry), no SQL
      await eventually('a read served from the cache', async () => {
        const reads = await readCount(b);
        assert.deepEqual((await b.read(id))?.data, { v: 1 });
        return (await readCount(b)) === reads;
      });
      const loaded = await a.read(id);
      await a.write(id, { v: 2 }, { state: loaded?.state });
      await eventually('the write seen by the other store', async () => {
        return (await b.read(id))?.data?.v === 2;
      });
      await a.destroy(id);
      await eventually('the destroy seen by the other store', async () => {
        return (await b.read(id)) === undefined;
      });
    });
  });
});

describe('the cache through PgBouncer, listening through it too (a misconfiguration)', () => {
  it('stays off, since notifications cannot reach a pooled connection: nothing stale is served', async () => {
    const table = uniqueTable('bouncer');
    // each attempt to listen is proven by a ping, or given up after this
    const cacheHeartbeatMillis = 200;
    const a = open2({ table, cache: true, cacheHeartbeatMillis });
    const b = open2({ table, cache: true, cacheHeartbeatMillis });
    await throughBouncer(async () => {
      // long enough for several attempts to listen (the retries back off from 250 ms)
      const until = Date.now() + 1_500;
      let rounds = 0;
      while (Date.now() < until || rounds < 5) {
        rounds += 1;
        const id = newId();
        await a.write(id, { v: 1 });
        assert.deepEqual((await b.read(id))?.data, { v: 1 });
        assert.deepEqual((await b.read(id))?.data, { v: 1 });
        // other requests keep PgBouncer's two server connections busy meanwhile
        const load = Array.from({ length: 4 }, () => a.write(newId(), { load: true }));
        await a.destroy(id);
        assert.equal(await b.read(id), undefined, `round ${rounds}: a destroyed session served`);
        await Promise.all(load);
        assert.equal((await b.status()).servers[0]?.cache?.enabled, false);
      }
    });
  });
});

/** A store of this file, with the default prepared statements. */
function open2(options: SessionPgsqlOptions<Data>): SessionPgsql<Data> {
  return stores.open({ db: viaBouncer, gcInterval: 0, ...options });
}

async function readCount(store: SessionPgsql<Data>): Promise<number> {
  return (await store.status()).servers[0]?.statements.read ?? 0;
}

/** Polls `check` until it holds; fails after 5 s (a guard against a hang, not a timing claim). */
async function eventually(what: string, check: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${what}`);
    await sleep(10);
  }
}
