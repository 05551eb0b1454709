/**
 * A session row held locked by another transaction (`SELECT ... FOR UPDATE`, for real).
 * The store's statements wait at most `lock_timeout` on the server, so a write that gave
 * up is never applied later and no backend stays waiting; the failure has its own code
 * (SPG_SESSION_LOCKED) and says nothing about the server, which is never marked down.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { reportFault } from '../faults/fault-report.js';
import {
  type Data,
  failoverEvents,
  newId,
  quoted,
  storedKey,
  storedRow,
  uniqueTable,
  useTestDatabase,
} from './fixtures.js';

const db = useTestDatabase();

/** Holds a session's row locked in an open transaction until `release()`. */
async function lockRow(table: string, id: string): Promise<{ release(): Promise<void> }> {
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  await client.query('BEGIN');
  const { rowCount } = await client.query(
    `SELECT 1 FROM ${quoted(table)} WHERE sess_id = $1 FOR UPDATE`,
    [storedKey(id)],
  );
  assert.equal(rowCount, 1, 'the row is there to lock');
  return {
    async release() {
      await client.query('ROLLBACK');
      await client.end();
    },
  };
}

/** Backends of this database waiting for a lock right now. */
async function waitingForLocks(): Promise<number> {
  const { rows } = await db.admin.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND wait_event_type = 'Lock'`,
  );
  return rows[0]?.n ?? 0;
}

describe('a session row locked by another transaction', () => {
  it('a write fails with SPG_SESSION_LOCKED, is never applied later, leaves no backend waiting', async (t) => {
    const table = uniqueTable();
    const store = db.stores.open<Data>({
      db: db.url,
      table,
      gcInterval: 0,
      queryTimeoutMillis: 400,
    });
    const failovers = failoverEvents(store);
    const id = newId();
    await store.write(id, { v: 'before' });
    const loaded = await store.read(id);
    const lock = await lockRow(table, id);
    try {
      await assert.rejects(store.write(id, { v: 'late' }, { state: loaded?.state }), {
        code: 'SPG_SESSION_LOCKED',
      });
      assert.equal(await waitingForLocks(), 0, 'the statement ended on the server too');
      // the server is fine: another session is read and written meanwhile
      const other = newId();
      await store.write(other, { v: 'other' });
      assert.deepEqual((await store.read(other))?.data, { v: 'other' });
      assert.equal((await store.status()).servers[0]?.up, true);
    } finally {
      await lock.release();
    }
    await sleep(600); // longer than the statement could have waited
    assert.equal((await storedRow(db.admin, table, storedKey(id)))?.sess_data, '{"v":"before"}');
    assert.deepEqual(failovers, []);
    reportFault(t, import.meta.url, {
      fault: 'Row lock held',
      done: 'another transaction holds a session row with SELECT ... FOR UPDATE; queryTimeoutMillis 400',
      held: 'SPG_SESSION_LOCKED; the write is never applied after the lock is released; no backend left waiting; the server stays up',
      sessions: 2,
      lost: 0,
      failed: 1,
    });
  });

  it('timed-out writes do not pile up: with a role limited to 4 connections, the 9th write works', async () => {
    const table = uniqueTable();
    const role = `spg_locks_${process.pid}`;
    await db.stores.open<Data>({ db: db.url, table, gcInterval: 0 }).length(); // creates the table
    await db.admin.query(`CREATE ROLE ${role} LOGIN PASSWORD 'locks' CONNECTION LIMIT 4`);
    await db.admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${quoted(table)} TO ${role}`);
    const roleUrl = new URL(db.url);
    roleUrl.username = role;
    roleUrl.password = 'locks';
    const store = db.stores.open<Data>({
      db: roleUrl.href,
      table,
      gcInterval: 0,
      queryTimeoutMillis: 300,
      poolSize: 10,
      createTable: false,
    });
    const id = newId();
    await store.write(id, { v: 0 });
    const lock = await lockRow(table, id);
    try {
      for (let i = 1; i <= 8; i++) {
        await assert.rejects(store.write(id, { v: i }), { code: 'SPG_SESSION_LOCKED' });
      }
      const other = newId();
      await store.write(other, { v: 'ninth' });
      assert.deepEqual((await store.read(other))?.data, { v: 'ninth' });
    } finally {
      await lock.release();
    }
  });

  it('with two servers: the locked session fails, the server stays up, its sessions are still found', async () => {
    const table = uniqueTable();
    const second = new URL(db.url);
    second.pathname = `/spg_locks_second_${process.pid}`;
    await db.admin.query(`CREATE DATABASE ${second.pathname.slice(1)}`);
    const store = db.stores.open<Data>({
      db: [db.url, second.href],
      table,
      gcInterval: 0,
      queryTimeoutMillis: 400,
    });
    const failovers = failoverEvents(store);
    // sessions until one lives in the first database (the one the lock helper reaches)
    const ids = Array.from({ length: 12 }, () => newId());
    for (const id of ids) await store.write(id, { id });
    const here = [];
    for (const id of ids) if (await storedRow(db.admin, table, storedKey(id))) here.push(id);
    const [locked, ...neighbours] = here;
    assert.ok(locked && neighbours.length > 0, 'several sessions live in the first database');
    const lock = await lockRow(table, locked);
    try {
      await assert.rejects(store.write(locked, { changed: true }), { code: 'SPG_SESSION_LOCKED' });
      for (const id of neighbours) assert.deepEqual((await store.read(id))?.data, { id });
      assert.deepEqual((await store.read(locked))?.data, { id: locked }, 'a read does not wait');
    } finally {
      await lock.release();
    }
    assert.deepEqual(failovers, []);
    await store.close();
    await db.admin.query(`DROP DATABASE ${second.pathname.slice(1)} WITH (FORCE)`);
  });

  it('in a batch, only the locked session fails', async () => {
    const table = uniqueTable();
    const store = db.stores.open<Data>({
      db: db.url,
      table,
      gcInterval: 0,
      queryTimeoutMillis: 400,
    });
    const [locked = '', free = ''] = [newId(), newId()];
    await store.write(locked, { n: 0 });
    await store.write(free, { n: 0 });
    const [a, b] = [await store.read(locked), await store.read(free)];
    const lock = await lockRow(table, locked);
    try {
      // written in one turn of the event loop: one batched UPDATE for both
      const results = await Promise.allSettled([
        store.write(locked, { n: 1 }, { state: a?.state }),
        store.write(free, { n: 1 }, { state: b?.state }),
      ]);
      assert.equal(results[0]?.status, 'rejected');
      assert.equal((results[0] as PromiseRejectedResult).reason.code, 'SPG_SESSION_LOCKED');
      assert.equal(results[1]?.status, 'fulfilled');
    } finally {
      await lock.release();
    }
    assert.deepEqual((await store.read(free))?.data, { n: 1 });
    assert.deepEqual((await store.read(locked))?.data, { n: 0 });
  });
});
