/** After `close()`, every call of the store rejects with SPG_CLOSED: none throws at the call. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Data, newId, uniqueTable, useTestDatabase } from './fixtures.js';

const db = useTestDatabase();

describe('a closed store', () => {
  it('rejects every call with SPG_CLOSED, as a promise', async () => {
    const store = db.stores.open<Data>({ db: db.url, table: uniqueTable(), gcInterval: 0 });
    const id = newId();
    await store.write(id, { before: 'close' });
    await store.close();
    const calls: Record<string, () => Promise<unknown>> = {
      read: () => store.read(id),
      write: () => store.write(id, { after: 'close' }),
      touch: () => store.touch(id),
      destroy: () => store.destroy(id),
      gc: () => store.gc(),
      length: () => store.length(),
      all: () => store.all(),
      ids: () => store.ids(),
      clear: () => store.clear(),
      status: () => store.status(),
      reset: () => store.reset(),
    };
    for (const [name, call] of Object.entries(calls)) {
      let promise: Promise<unknown> | undefined;
      assert.doesNotThrow(() => {
        promise = call();
      }, `${name}() throws at the call`);
      await assert.rejects(promise as Promise<unknown>, { code: 'SPG_CLOSED' }, name);
    }
    await store.close(); // closing again is fine
  });
});
