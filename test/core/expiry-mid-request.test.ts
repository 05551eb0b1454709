/**
 * A session that expires between a request's read and its write: the write starts it
 * anew (counter 1, created now), as a write after expiry always does; it never revives
 * the expired session with its old counters and metadata.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type Data,
  expireInDatabase,
  newId,
  storedKey,
  storedRow,
  uniqueTable,
  useTestDatabase,
} from './fixtures.js';

const db = useTestDatabase();

describe('a session that expires during a request', () => {
  it('is started anew by the write, not revived with its counters', async () => {
    const table = uniqueTable();
    const store = db.stores.open<Data>({ db: db.url, table, gcInterval: 0 });
    const id = newId();
    await store.write(id, { n: 1 });
    const first = await store.read(id);
    first?.state.addError('error', 'before');
    await store.write(id, { n: 2 }, { state: first?.state });
    const loaded = await store.read(id); // live when read
    await expireInDatabase(db.admin, table, storedKey(id), { createdSecondsAgo: 5000 });
    const old = await storedRow(db.admin, table, storedKey(id));
    await store.write(id, { n: 3 }, { state: loaded?.state });
    const row = await storedRow(db.admin, table, storedKey(id));
    assert.equal(row?.sess_counter, 1);
    assert.equal(row?.sess_error, 0);
    assert.ok((row?.sess_created ?? 0) > (old?.sess_created ?? 0) + 4000, 'created anew');
    assert.deepEqual((await store.read(id))?.data, { n: 3 });
  });
});
