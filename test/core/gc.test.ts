import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import type { GcResult } from '../../src/index.js';
import {
  newId,
  nextGc,
  quoted,
  startWorker,
  storedRow,
  storeTracker,
  uniqueTable,
  useSharedDatabase,
} from './fixtures.js';

let url: string;
let admin: pg.Pool;
const stores = storeTracker();

useSharedDatabase(stores, (sharedUrl, pool) => {
  url = sharedUrl;
  admin = pool;
});

/** A table made by a store, filled through SQL with `expired` dead and `live` live rows. */
async function filledTable(expired: number, live: number): Promise<string> {
  const table = uniqueTable();
  await stores.open({ db: url, table, gcInterval: 0 }).length(); // creates the table
  await admin.query(
    `INSERT INTO ${quoted(table)} (sess_id, sess_data, sess_created, sess_modified, sess_expire, sess_counter)
     SELECT 'dead' || i, '{}', 0, 0, floor(extract(epoch from now()))::bigint - i, 1
     FROM generate_series(1, $1::int) i
     UNION ALL
     SELECT 'live' || i, '{}', 0, 0, floor(extract(epoch from now()))::bigint + 3600, 1
     FROM generate_series(1, $2::int) i`,
    [expired, live],
  );
  return table;
}

async function rowIds(table: string): Promise<string[]> {
  const { rows } = await admin.query<{ sess_id: string }>(
    `SELECT sess_id FROM ${quoted(table)} ORDER BY sess_id`,
  );
  return rows.map((r) => r.sess_id);
}

/** How often the stores of these tests check whether a collection is due (gcCheckMillis). */
const CHECK_MILLIS = 50;

const liveIds = (n: number) => Array.from({ length: n }, (_, i) => `live${i + 1}`).sort();

describe('gc()', () => {
  it('deletes only the expired rows, in statements of at most gcBatchSize rows', async () => {
    const table = await filledTable(10, 5);
    // a statement-level trigger records how many rows each DELETE statement removed
    const log = `${table}_deletes`;
    await admin.query(`CREATE TABLE ${quoted(log)} (id serial, deleted int)`);
    await admin.query(`CREATE FUNCTION ${quoted(`${table}_count`)}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO ${quoted(log)} (deleted) SELECT count(*) FROM old_rows; RETURN NULL; END $$`);
    await admin.query(`CREATE TRIGGER count_deletes AFTER DELETE ON ${quoted(table)}
      REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ${quoted(`${table}_count`)}()`);

    const store = stores.open({ db: url, table, gcInterval: 0, gcBatchSize: 3 });
    const events: GcResult[] = [];
    store.on('gc', (result) => events.push(result));
    assert.equal(await store.gc(), 10);
    const { rows } = await admin.query<{ deleted: number }>(
      `SELECT deleted FROM ${quoted(log)} ORDER BY id`,
    );
    assert.deepEqual(
      rows.map((r) => r.deleted),
      [3, 3, 3, 1],
    );
    assert.deepEqual(await rowIds(table), liveIds(5));
    assert.equal(events.length, 1);
    assert.equal(events[0]?.server, 0);
    assert.equal(events[0]?.deleted, 10);
    assert.equal(typeof events[0]?.durationMillis, 'number');
    // nothing left to collect
    assert.equal(await store.gc(), 0);
    assert.deepEqual(await rowIds(table), liveIds(5));
  });
});

describe("the '!gc' claim row", () => {
  it('is never counted or listed as a session, nor removed by clear() or gc()', async () => {
    const table = await filledTable(2, 3);
    const store = stores.open({ db: url, table, gcInterval: 1, gcCheckMillis: 20 });
    const collected = nextGc(store);
    await store.length(); // the first access starts the schedule
    assert.equal((await collected).deleted, 2);
    const marker = await storedRow(admin, table, '!gc');
    assert.ok(marker, 'the claim row exists');
    assert.equal(await store.length(), 3);
    assert.deepEqual([...(await store.all()).keys()], liveIds(3));
    assert.deepEqual(await store.ids(), liveIds(3));
    // expired claim row: gc() still keeps it, and it is not a session
    await admin.query(
      `UPDATE ${quoted(table)} SET sess_expire = 0, sess_data = '{}' WHERE sess_id = '!gc'`,
    );
    assert.equal(await store.gc(), 0);
    assert.equal(await store.length(), 3);
    assert.equal((await store.all()).has('!gc'), false);
    await store.clear();
    assert.equal(await store.length(), 0);
    assert.deepEqual(await rowIds(table), ['!gc']);
  });
});

describe('gcInterval', () => {
  it('0: never collects by itself', async () => {
    const table = await filledTable(3, 0);
    // were a collector scheduled, it would check every CHECK_MILLIS
    const store = stores.open({ db: url, table, gcInterval: 0, gcCheckMillis: CHECK_MILLIS });
    const events: GcResult[] = [];
    store.on('gc', (result) => events.push(result));
    for (let i = 0; i < 20; i++) {
      const id = newId();
      await store.write(id, { i });
      await store.read(id);
      await store.length();
    }
    await sleep(6 * CHECK_MILLIS); // longer than several periods of a scheduled collector
    assert.deepEqual(events, []);
    const { gcClaim, gcDelete } = (await store.status()).servers[0]?.statements ?? {};
    assert.equal(gcClaim, undefined);
    assert.equal(gcDelete, undefined);
    assert.deepEqual(
      (await rowIds(table)).filter((id) => id.startsWith('dead')),
      ['dead1', 'dead2', 'dead3'],
    );
  });

  it('negative: collects on every access, without a claim', async () => {
    const table = await filledTable(1, 1);
    const store = stores.open({ db: url, table, gcInterval: -1 });
    for (const access of [
      () => store.read(newId()),
      () => store.write(newId(), {}),
      () => store.length(),
    ]) {
      const collected = nextGc(store);
      await access();
      assert.equal((await collected).deleted, 1);
      assert.equal((await rowIds(table)).filter((id) => id.startsWith('dead')).length, 0);
      // a new expired row for the next access
      await admin.query(
        `INSERT INTO ${quoted(table)} (sess_id, sess_data, sess_expire) VALUES ($1, '{}', 1)`,
        [`dead${newId()}`],
      );
    }
    const { gcClaim } = (await store.status()).servers[0]?.statements ?? {};
    assert.equal(gcClaim, undefined);
    assert.equal(await storedRow(admin, table, '!gc'), undefined);
  });

  it('positive: one collection per interval across two processes, stopped by close()', async () => {
    const seconds = 3;
    const interval = 1;
    const table = await filledTable(25, 4);
    const args = [url, table, String(seconds), String(interval), String(CHECK_MILLIS)];
    const workers = [0, 1].map(() => startWorker('gc-worker.ts', args));
    try {
      await Promise.all(workers.map((w) => w.waitFor((line) => line === 'ready')));
      for (const worker of workers) worker.child.stdin.end('go\n');
      assert.deepEqual(await Promise.all(workers.map((w) => w.exited)), [0, 0]);
    } finally {
      for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill();
    }
    const outputs = workers.map((w) =>
      w.lines
        .filter((line) => line.startsWith('{'))
        .map(
          (line) =>
            JSON.parse(line) as
              | { event: 'gc'; deleted: number }
              | { event: 'done'; claims: number; afterClose: number; warnings: string[] },
        ),
    );
    const collections = outputs.map((events) => events.filter((e) => e.event === 'gc'));
    const total = collections.flat().length;
    const claims = outputs.flat().reduce((sum, e) => sum + (e.event === 'done' ? e.claims : 0), 0);
    const detail = JSON.stringify(outputs);
    assert.ok(total >= 1, `no collection at all: ${detail}`);
    assert.ok(total <= Math.ceil(seconds / interval) + 1, `${total} collections: ${detail}`);
    // both processes tried several times: the claim is what kept the total down
    assert.ok(claims > total, `${claims} claims for ${total} collections: ${detail}`);
    // every expired row went exactly once, the live ones stay
    assert.equal(
      collections.flat().reduce((sum, e) => sum + e.deleted, 0),
      25,
    );
    assert.deepEqual(await rowIds(table), ['!gc', ...liveIds(4)]);
    // the claim row counts the collections of the whole fleet
    assert.equal((await storedRow(admin, table, '!gc'))?.sess_counter, total);
    // after close(): no collection, no failure, and the process ended by itself
    for (const events of outputs) {
      const done = events.find((e) => e.event === 'done');
      assert.deepEqual(done && { afterClose: done.afterClose, warnings: done.warnings }, {
        afterClose: 0,
        warnings: [],
      });
    }
  });
});
