/**
 * A statement slower than `queryTimeoutMillis` (a trigger that sleeps, for real): the server
 * ends it and rolls it back, so the write that failed is never applied later, and the
 * server is not marked down for it.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type Data,
  failoverEvents,
  newId,
  quoted,
  storedKey,
  storedRow,
  uniqueTable,
  useTestDatabase,
} from '../core/fixtures.js';
import { reportFault } from './fault-report.js';

const db = useTestDatabase();

describe('a statement slower than queryTimeoutMillis', () => {
  it('fails with SPG_DB_QUERY_FAILED (57014), is rolled back, never applied later', async (t) => {
    const table = uniqueTable();
    const store = db.stores.open<Data>({
      db: db.url,
      table,
      gcInterval: 0,
      queryTimeoutMillis: 300,
    });
    const failovers = failoverEvents(store);
    const id = newId();
    await store.write(id, { v: 'before' });
    await db.admin.query(`CREATE FUNCTION ${table}_slow() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_sleep(1); RETURN NEW; END $$`);
    await db.admin.query(`CREATE TRIGGER slow BEFORE UPDATE ON ${quoted(table)}
      FOR EACH ROW EXECUTE FUNCTION ${table}_slow()`);
    await assert.rejects(store.write(id, { v: 'slow' }), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'SPG_DB_QUERY_FAILED');
      assert.equal((error.cause as { code?: string }).code, '57014');
      return true;
    });
    await sleep(1500); // past the trigger's sleep: a statement still running would have committed
    assert.equal((await storedRow(db.admin, table, storedKey(id)))?.sess_data, '{"v":"before"}');
    assert.deepEqual(failovers, []);
    assert.equal((await store.status()).servers[0]?.up, true);
    reportFault(t, import.meta.url, {
      fault: 'Statement timeout',
      done: 'a trigger that sleeps 1 s on every update; queryTimeoutMillis 300',
      held: 'SPG_DB_QUERY_FAILED (57014) from the server; the write is rolled back and never applied later; the server stays up',
      sessions: 1,
      lost: 0,
      failed: 1,
    });
  });
});
