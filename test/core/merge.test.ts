import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type pg from 'pg';
import type { SessionPgsql } from '../../src/index.js';
import {
  type Data,
  newId,
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

/** Two app servers (separate stores and pools) on one table, and a session on it. */
async function twoServers(
  initial: Data,
): Promise<{ a: SessionPgsql<Data>; b: SessionPgsql<Data>; id: string; table: string }> {
  const table = uniqueTable();
  const a = stores.open({ db: url, table, gcInterval: 0 });
  const b = stores.open({ db: url, table, gcInterval: 0 });
  const id = newId();
  await a.write(id, initial);
  return { a, b, id, table };
}

describe('two requests on one session at once', () => {
  it('each changing a different key: both changes are kept', async () => {
    const { a, b, id, table } = await twoServers({ user: 'ann', cart: [] });
    const first = await a.read(id);
    const second = await b.read(id);
    assert.ok(first?.data && second?.data);
    await a.write(id, { ...first.data, theme: 'dark' }, { state: first.state });
    await b.write(id, { ...second.data, cart: ['book'] }, { state: second.state });
    assert.deepEqual((await a.read(id))?.data, { user: 'ann', cart: ['book'], theme: 'dark' });
    assert.equal((await storedRow(admin, table, storedKey(id)))?.sess_counter, 3);
  });

  it('one removing a key while the other adds one: both kept', async () => {
    const { a, b, id } = await twoServers({ user: 'ann', flash: 'saved' });
    const first = await a.read(id);
    const second = await b.read(id);
    assert.ok(first?.data && second?.data);
    const { flash: _flash, ...withoutFlash } = first.data;
    await a.write(id, withoutFlash, { state: first.state });
    await b.write(id, { ...second.data, visits: 1 }, { state: second.state });
    assert.deepEqual((await a.read(id))?.data, { user: 'ann', visits: 1 });
  });

  it('both changing the same key: the later write wins', async () => {
    const { a, b, id } = await twoServers({ user: 'ann', step: 0 });
    const first = await a.read(id);
    const second = await b.read(id);
    assert.ok(first?.data && second?.data);
    await a.write(id, { ...first.data, step: 1 }, { state: first.state });
    await b.write(id, { ...second.data, step: 2 }, { state: second.state });
    assert.deepEqual((await a.read(id))?.data, { user: 'ann', step: 2 });
  });

  it('one destroying it (a logout) while the other writes: it stays destroyed', async () => {
    const { a, b, id, table } = await twoServers({ user: 'ann' });
    const stale = await b.read(id);
    assert.ok(stale?.data);
    await a.destroy(id);
    await b.write(id, { ...stale.data, lastPage: '/account' }, { state: stale.state });
    assert.equal(await a.read(id), undefined);
    assert.equal(await b.read(id), undefined);
    assert.equal(await storedRow(admin, table, storedKey(id)), undefined);
  });

  it('a metadata-only write (custom field) keeps the data another request stored meanwhile', async () => {
    const { a, b, id } = await twoServers({ user: 'ann' });
    const first = await a.read(id);
    const second = await b.read(id);
    assert.ok(first?.data && second?.data);
    await b.write(id, { ...second.data, cart: ['pen'] }, { state: second.state });
    first.state.setField('audited');
    assert.equal(await a.touch(id, { state: first.state }), true);
    const after = await a.read(id);
    assert.deepEqual(after?.data, { user: 'ann', cart: ['pen'] });
    assert.equal(after?.state.getField(), 'audited');
  });

  it('20 requests at once, each adding its own key: no key and no count lost', async () => {
    const { a, b, id, table } = await twoServers({ start: true });
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
