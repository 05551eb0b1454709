/**
 * Garbage collection while the same sessions are written and touched: collection deletes a
 * row only if it is still expired when deleted, so no session a write or touch acknowledged
 * is ever lost to a collection running at the same time.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type Data,
  newId,
  quoted,
  storedKey,
  uniqueTable,
  useTestDatabase,
} from '../core/fixtures.js';
import { reportFault } from './fault-report.js';

const db = useTestDatabase();

describe('collection during writes and touches of the same sessions', () => {
  it('loses no acknowledged session, and collects the rest', async (t) => {
    const table = uniqueTable();
    const store = db.stores.open<Data>({ db: db.url, table, gcInterval: 0, gcBatchSize: 50 });
    const collector = db.stores.open<Data>({ db: db.url, table, gcInterval: 0, gcBatchSize: 50 });
    const ids = Array.from({ length: 600 }, () => newId());
    for (let i = 0; i < ids.length; i += 100)
      await Promise.all(ids.slice(i, i + 100).map((id) => store.write(id, { v: 0 })));
    // every session expired; a third will be written again, a third touched while collected
    await db.admin.query(
      `UPDATE ${quoted(table)} SET sess_expire = floor(extract(epoch from now()))::bigint - 5`,
    );
    const [rewritten, touched, left] = [ids.slice(0, 200), ids.slice(200, 400), ids.slice(400)];
    // the touched third is live (it expires soon), so that touches find them
    await db.admin.query(
      `UPDATE ${quoted(table)} SET sess_expire = floor(extract(epoch from now()))::bigint + 30
        WHERE sess_id = ANY($1::text[])`,
      [touched.map(storedKey)],
    );
    const [deleted] = await Promise.all([
      collector.gc(),
      (async () => {
        for (const id of rewritten) await store.write(id, { v: 1 });
      })(),
      (async () => {
        for (const id of touched) assert.equal(await store.touch(id), true, 'touched live');
      })(),
    ]);
    for (const id of rewritten) assert.deepEqual((await store.read(id))?.data, { v: 1 });
    for (const id of touched) assert.deepEqual((await store.read(id))?.data, { v: 0 });
    const { rows } = await db.admin.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${quoted(table)} WHERE sess_id = ANY($1::text[])`,
      [left.map(storedKey)],
    );
    assert.equal(rows[0]?.n, 0, 'the sessions nobody used were collected');
    assert.ok(deleted >= left.length);
    reportFault(t, import.meta.url, {
      fault: 'Collection during writes and touches',
      done: '600 expired sessions collected in batches of 50 while 200 of them are written again and 200 live ones touched',
      held: 'every written and touched session is there afterwards; the 200 unused ones are collected',
      sessions: rewritten.length + touched.length,
      lost: 0,
      failed: 0,
    });
  });
});
