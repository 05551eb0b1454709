import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import type pg from 'pg';
import { reportFault } from '../faults/fault-report.js';
import { createSessionPgsqlTable } from '../helpers/session-pgsql-table.js';
import {
  expireInDatabase,
  newId,
  nextGc,
  quoted,
  startWorker,
  storedKey,
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

async function columnTypes(table: string): Promise<Record<string, string>> {
  const { rows } = await admin.query<{ column_name: string; data_type: string }>(
    `SELECT a.attname AS column_name, format_type(a.atttypid, a.atttypmod) AS data_type
     FROM pg_attribute a WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
     ORDER BY a.attnum`,
    [quoted(table)],
  );
  return Object.fromEntries(rows.map((r) => [r.column_name, r.data_type]));
}

describe('the table the store creates', () => {
  it('has every column of session_pgsql, 64-bit times, a primary key and an expiry index', async () => {
    const table = uniqueTable();
    const store = stores.open({ db: url, table, gcInterval: 0 });
    await store.write(newId(), {});
    assert.deepEqual(await columnTypes(table), {
      sess_id: 'text',
      sess_name: 'text',
      sess_data: 'text',
      sess_created: 'bigint',
      sess_modified: 'bigint',
      sess_expire: 'bigint',
      sess_addr_created: 'text',
      sess_addr_modified: 'text',
      sess_counter: 'integer',
      sess_error: 'integer',
      sess_warning: 'integer',
      sess_notice: 'integer',
      sess_err_message: 'text',
      sess_custom: 'text',
    });
    const { rows: indexes } = await admin.query<{ primary: boolean; columns: string }>(
      `SELECT i.indisprimary AS primary,
         (SELECT string_agg(a.attname, ',') FROM pg_attribute a
          WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)) AS columns
       FROM pg_index i WHERE i.indrelid = $1::regclass ORDER BY 2`,
      [quoted(table)],
    );
    assert.deepEqual(indexes, [
      { primary: false, columns: 'sess_expire' },
      { primary: true, columns: 'sess_id' },
    ]);
  });

  it('stores times after 2038 (the 32-bit limit of the original)', async () => {
    const table = uniqueTable();
    const store = stores.open({ db: url, table, gcInterval: 0 });
    const id = newId();
    const lifetimeSeconds = 2 ** 32; // about 136 years from now
    await store.write(id, { long: true }, { lifetimeSeconds });
    const row = await storedRow(admin, table, storedKey(id));
    assert.equal((row?.sess_expire ?? 0) - (row?.sess_modified ?? 0), lifetimeSeconds);
    const loaded = await store.read(id);
    assert.deepEqual(loaded?.data, { long: true });
    assert.ok((loaded?.state.info().expires?.getUTCFullYear() ?? 0) > 2100);
  });

  it('is created once when several processes start at once on an empty schema', async (t) => {
    const schema = `race_${process.pid}`;
    await admin.query(`CREATE SCHEMA ${quoted(schema)}`);
    const table = `${schema}.php_session`;
    const workers = Array.from({ length: 5 }, () => startWorker('start-store.ts', [url, table]));
    try {
      // every process is up before any of them touches the database
      await Promise.all(workers.map((w) => w.waitFor((line) => line === 'ready')));
      for (const worker of workers) worker.child.stdin.end('go\n');
      const results = await Promise.all(
        workers.map(async (w) => JSON.parse(await w.waitFor((line) => line.startsWith('{')))),
      );
      for (const [i, result] of results.entries()) {
        assert.deepEqual(result, {
          ok: true,
          pid: workers[i]?.child.pid,
          data: { pid: workers[i]?.child.pid },
        });
      }
      assert.deepEqual(await Promise.all(workers.map((w) => w.exited)), [0, 0, 0, 0, 0]);
    } finally {
      for (const worker of workers) if (worker.child.exitCode === null) worker.child.kill();
    }
    const { rows } = await admin.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${quoted(table)}`,
    );
    assert.deepEqual(rows, [{ n: 5 }]);
    assert.equal((await columnTypes(table)).sess_expire, 'bigint');
    reportFault(t, import.meta.url, {
      fault: 'Processes starting at once on an empty database',
      done: 'five processes released at the same moment, each creating the table and writing a session',
      held: 'the table is created once (an advisory lock serializes it); all five sessions are written and read back',
      sessions: 5,
      lost: 0,
      failed: 0,
    });
  });
});

describe("a table created by session_pgsql's own DDL (integer times)", () => {
  let table: string;

  before(async () => {
    table = uniqueTable('legacy');
    // session_pgsql's README, 1.0.1 and later (with the PRIMARY KEY)
    await createSessionPgsqlTable(admin, table, { primaryKey: true });
  });

  it('works as is: write, read, merge, touch, metadata, destroy', async () => {
    const store = stores.open({ db: url, table, gcInterval: 0 });
    const id = newId();
    await store.write(id, { n: 1 }, { address: '192.0.2.1' });
    const loaded = await store.read(id);
    assert.deepEqual(loaded?.data, { n: 1 });
    loaded?.state.setField('custom');
    loaded?.state.addError('warning', 'careful');
    await store.write(id, { n: 2 }, { state: loaded?.state, address: '192.0.2.2' });
    assert.equal(await store.touch(id), true);
    const info = (await store.read(id))?.state.info();
    assert.equal(info?.accesses, 3);
    assert.equal(info?.warnings, 1);
    assert.equal(info?.errorMessage, 'careful');
    assert.equal(info?.custom, 'custom');
    assert.equal(info?.createdAddress, '192.0.2.1');
    assert.equal(info?.modifiedAddress, '192.0.2.2');
    assert.equal(await store.length(), 1);
    await store.destroy(id);
    assert.equal(await store.read(id), undefined);
  });

  it('works as is: gc() and the fleet-wide collection claim', async () => {
    const store = stores.open({ db: url, table, gcInterval: 0 });
    const live = newId();
    const dead = newId();
    await store.write(live, { live: true });
    await store.write(dead, { live: false });
    await expireInDatabase(admin, table, storedKey(dead));
    assert.equal(await store.read(dead), undefined);
    assert.equal(await store.gc(), 1);
    assert.equal(await storedRow(admin, table, storedKey(dead)), undefined);
    // the periodic collection claims the interval with the '!gc' row, in integer columns too
    const dead2 = newId();
    await store.write(dead2, {});
    await expireInDatabase(admin, table, storedKey(dead2));
    const periodic = stores.open({ db: url, table, gcInterval: 1, gcCheckMillis: 20 });
    const collected = nextGc(periodic);
    await periodic.length(); // the first access starts the schedule
    const result = await collected;
    assert.equal(result.deleted, 1);
    assert.equal(await storedRow(admin, table, storedKey(dead2)), undefined);
    const marker = await storedRow(admin, table, '!gc');
    assert.ok(marker, 'the claim row exists');
    assert.deepEqual((await store.read(live))?.data, { live: true });
    assert.equal(await store.length(), 1);
  });

  it('is left unchanged (no column altered)', async () => {
    const types = await columnTypes(table);
    assert.equal(types.sess_created, 'integer');
    assert.equal(types.sess_modified, 'integer');
    assert.equal(types.sess_expire, 'integer');
    const { rows } = await admin.query(
      'SELECT indexname FROM pg_indexes WHERE tablename = $1 ORDER BY 1',
      [table],
    );
    assert.deepEqual(rows, [{ indexname: `${table}_pkey` }]);
  });
});
