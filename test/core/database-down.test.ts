import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SessionPgsqlError } from '../../src/index.js';
import { type PostgresServer, startPostgres } from '../helpers/postgres.js';
import { newId, storeTracker } from './fixtures.js';

let server: PostgresServer;
let url: string;
const stores = storeTracker();

before(async () => {
  server = await startPostgres({ name: 'down' });
  url = await server.createDatabase('sessions');
});
after(async () => {
  await stores.closeAll();
  await server?.destroy();
});

/** Checks a rejection is SPG_DB_UNREACHABLE with the driver's error as cause. */
function unreachable(error: unknown): true {
  assert.ok(error instanceof SessionPgsqlError, String(error));
  assert.equal(error.code, 'SPG_DB_UNREACHABLE', error.message);
  assert.ok(error.cause instanceof Error, 'the driver error is the cause');
  return true;
}

describe('a database that goes away and comes back', () => {
  const options = { gcInterval: 0, connectTimeoutMillis: 1000, queryTimeoutMillis: 2000 };

  it('stopped: every call rejects with SPG_DB_UNREACHABLE; started again: the same store works', async () => {
    const store = stores.open({ db: url, ...options });
    const id = newId();
    await store.write(id, { kept: 'yes' });
    const loaded = await store.read(id);
    assert.deepEqual(loaded?.data, { kept: 'yes' });

    await server.stop('immediate');
    try {
      // an outage is an error, never an empty session
      await assert.rejects(store.read(id), unreachable);
      // reads of one turn share one statement: each of them gets its failure
      const batch = await Promise.allSettled([id, newId(), newId()].map((i) => store.read(i)));
      for (const read of batch) assert.ok(read.status === 'rejected' && unreachable(read.reason));
      await assert.rejects(store.write(id, { lost: true }, { state: loaded?.state }), unreachable);
      await assert.rejects(store.touch(id), unreachable);
      await assert.rejects(store.destroy(id), unreachable);
      await assert.rejects(store.length(), unreachable);
      await assert.rejects(store.gc(), unreachable);
      const status = await store.status();
      assert.equal(status.servers[0]?.up, false);
      assert.match(status.servers[0]?.lastError ?? '', /cannot reach PostgreSQL/);
      assert.equal(status.servers[0]?.sessions, null);
    } finally {
      await server.start();
    }

    // no reset(): the pool reconnects by itself, and the session is intact
    assert.deepEqual((await store.read(id))?.data, { kept: 'yes' });
    await store.write(id, { kept: 'still' });
    assert.deepEqual((await store.read(id))?.data, { kept: 'still' });
    const status = await store.status();
    assert.equal(status.servers[0]?.up, true);
    assert.equal(status.servers[0]?.lastError, null);
  });

  it('a store first used while the database is down works once it is back', async () => {
    await server.stop('immediate');
    const store = stores.open({ db: url, ...options, table: 'late_sessions' });
    try {
      await assert.rejects(store.read(newId()), unreachable);
      assert.equal((await store.status()).servers[0]?.up, false);
    } finally {
      await server.start();
    }
    const id = newId();
    await store.write(id, { late: true });
    assert.deepEqual((await store.read(id))?.data, { late: true });
  });

  it('reset() reconnects, and the store keeps working', async () => {
    const store = stores.open({ db: url, ...options });
    const id = newId();
    await store.write(id, { before: 'reset' });
    // the server kills every connection of the store: reset() replaces them
    await server.query(
      "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'sessions' AND pid <> pg_backend_pid()",
    );
    await store.reset();
    assert.equal((await store.status()).servers[0]?.up, true);
    assert.deepEqual((await store.read(id))?.data, { before: 'reset' });
    await store.write(id, { after: 'reset' });
    assert.deepEqual((await store.read(id))?.data, { after: 'reset' });
  });
});

describe('a database that hangs (SIGSTOP)', () => {
  it('rejects with SPG_DB_UNREACHABLE after the timeouts, then works once resumed', async () => {
    const options = { gcInterval: 0, connectTimeoutMillis: 500, queryTimeoutMillis: 1000 };
    // one store with an open connection (query timeout), one that must connect (connect timeout)
    const connected = stores.open({ db: url, ...options, poolSize: 1 });
    const id = newId();
    await connected.write(id, { paused: false });
    const fresh = stores.open({ db: url, ...options });

    server.pause();
    try {
      await assert.rejects(connected.read(id), unreachable);
      await assert.rejects(connected.write(id, { paused: true }), unreachable);
      await assert.rejects(fresh.read(id), unreachable);
      assert.equal((await connected.status()).servers[0]?.up, false);
    } finally {
      server.resume();
    }

    assert.deepEqual((await connected.read(id))?.data, { paused: false });
    assert.deepEqual((await fresh.read(id))?.data, { paused: false });
    await connected.write(id, { paused: 'over' });
    assert.deepEqual((await fresh.read(id))?.data, { paused: 'over' });
  });
});
