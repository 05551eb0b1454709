/**
 * What a session may hold, refused when given rather than failing later: NUL characters
 * in the metadata (PostgreSQL text cannot hold them), and rows over `maxSessionBytes`
 * counting the metadata too. A serializer that writes what JSON cannot (BigInt) merges.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Serializer } from '../../src/index.js';
import {
  type Data,
  newId,
  storedKey,
  storedRow,
  uniqueTable,
  useTestDatabase,
} from './fixtures.js';

const db = useTestDatabase();

describe('metadata with NUL characters', () => {
  it('setField and addError refuse them at once; the session stays writable', async () => {
    const store = db.stores.open<Data>({ db: db.url, table: uniqueTable(), gcInterval: 0 });
    const id = newId();
    await store.write(id, { a: 1 });
    const loaded = await store.read(id);
    const state = loaded?.state;
    assert.ok(state);
    assert.throws(() => state.setField('a\0b'), { code: 'SPG_INVALID_OPTION', message: /NUL/ });
    assert.throws(() => state.addError('error', 'bad\0message'), { code: 'SPG_INVALID_OPTION' });
    assert.equal(state.dirty, false, 'nothing was recorded');
    state.setField('fine');
    assert.equal(await store.write(id, { a: 2 }, { state }), true);
    assert.equal((await store.read(id))?.state.getField(), 'fine');
  });
});

describe('maxSessionBytes', () => {
  it('counts the custom field and the error message with the data', async () => {
    const table = uniqueTable();
    const store = db.stores.open<Data>({ db: db.url, table, gcInterval: 0, maxSessionBytes: 1000 });
    const id = newId();
    await store.write(id, { small: true });
    const state = (await store.read(id))?.state;
    assert.ok(state);
    state.setField('x'.repeat(10_000));
    await assert.rejects(store.write(id, { small: true }, { state }), {
      code: 'SPG_SESSION_TOO_LARGE',
    });
    await assert.rejects(store.touch(id, { state }), { code: 'SPG_SESSION_TOO_LARGE' });
    const fresh = store.newState(newId());
    fresh.addError('notice', 'y'.repeat(2000));
    await assert.rejects(store.write(newId(), {}, { state: fresh }), {
      code: 'SPG_SESSION_TOO_LARGE',
    });
    assert.equal((await storedRow(db.admin, table, storedKey(id)))?.sess_custom, null);
  });
});

describe('a BigInt-aware serializer', () => {
  const bigJson: Serializer<Data> = {
    stringify: (data) =>
      JSON.stringify(data, (_key, value) =>
        typeof value === 'bigint' ? { $bigint: value.toString() } : value,
      ),
    parse: (text) =>
      JSON.parse(text, (_key, value) =>
        value && typeof value === 'object' && typeof value.$bigint === 'string'
          ? BigInt(value.$bigint)
          : value,
      ) as Data,
  };

  it('two requests that change different keys at once: both kept, no uncoded TypeError', async () => {
    const table = uniqueTable();
    const a = db.stores.open<Data>({ db: db.url, table, gcInterval: 0, serializer: bigJson });
    const b = db.stores.open<Data>({ db: db.url, table, gcInterval: 0, serializer: bigJson });
    const id = newId();
    await a.write(id, { balance: 10n ** 20n });
    const [readA, readB] = [await a.read(id), await b.read(id)];
    await a.write(id, { balance: 10n ** 20n, fromA: 1n }, { state: readA?.state });
    await b.write(id, { balance: 10n ** 20n, fromB: 2n }, { state: readB?.state });
    assert.deepEqual((await a.read(id))?.data, { balance: 10n ** 20n, fromA: 1n, fromB: 2n });
  });
});
