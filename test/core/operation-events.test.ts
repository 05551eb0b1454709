/**
 * The store's 'operation' and 'cacheLookup' events (for metrics and the dashboard): one
 * per call, with its outcome, the server that answered and, on failure, the error's code.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CacheLookupEvent, OperationEvent } from '../../src/index.js';
import { newId, storeTracker, uniqueTable, useSharedDatabase } from './fixtures.js';

let url: string;
const stores = storeTracker();
useSharedDatabase(stores, (sharedUrl) => {
  url = sharedUrl;
});

describe("'operation' events", () => {
  it('report each call: ok, skipped by the short circuit, or error with its code', async () => {
    const store = stores.open({ db: url, table: uniqueTable(), gcInterval: 0, shortCircuit: true });
    const events: OperationEvent[] = [];
    store.on('operation', (event) => events.push(event));
    const id = newId();
    await store.write(id, { user: 'ann' });
    const loaded = await store.read(id);
    assert.ok(loaded);
    assert.equal(await store.write(id, { user: 'ann' }, { state: loaded.state }), false);
    assert.equal(await store.touch(id, { state: loaded.state }), false);
    await store.destroy(id);
    await assert.rejects(store.write('not a valid id!', {}), { code: 'SPG_INVALID_SESSION_ID' });

    assert.deepEqual(
      events.map(({ operation, outcome, code }) => [operation, outcome, code]),
      [
        ['write', 'ok', undefined],
        ['read', 'ok', undefined],
        ['write', 'skipped', undefined],
        ['touch', 'skipped', undefined],
        ['destroy', 'ok', undefined],
        ['write', 'error', 'SPG_INVALID_SESSION_ID'],
      ],
    );
    assert.equal(events[1]?.server, 0, 'the read names the server that answered');
    assert.equal(events[2]?.server, 0, 'a write given the read state names its server');
    for (const event of events) {
      assert.ok(event.durationMillis >= 0 && Number.isFinite(event.durationMillis));
      assert.ok(Object.isFrozen(event));
      assert.ok(!JSON.stringify(event).includes(id), 'no session id in an event');
    }
  });

  it('a touch that ran its statement is ok even when it changed nothing; misses name their server', async () => {
    const store = stores.open({ db: url, table: uniqueTable(), gcInterval: 0, shortCircuit: true });
    const events: OperationEvent[] = [];
    store.on('operation', (event) => events.push(event));
    assert.equal(await store.read(newId()), undefined);
    const id = newId();
    await store.write(id, { n: 1 });
    assert.equal(await store.touch(id), false, 'fresh expiry: the statement touched nothing');
    assert.deepEqual(
      events.map(({ operation, outcome, server }) => [operation, outcome, server]),
      [
        ['read', 'ok', 0],
        ['write', 'ok', 0],
        ['touch', 'ok', 0],
      ],
    );
  });

  it('no listener, no event object: the store keeps working once listeners leave', async () => {
    const store = stores.open({ db: url, table: uniqueTable(), gcInterval: 0 });
    const events: OperationEvent[] = [];
    const listener = (event: OperationEvent) => events.push(event);
    store.on('operation', listener);
    const id = newId();
    await store.write(id, { n: 1 });
    store.off('operation', listener);
    await store.write(id, { n: 2 });
    assert.deepEqual((await store.read(id))?.data, { n: 2 });
    assert.equal(events.length, 1);
  });

  it('a failed database call is reported with its code, and still rejects', async () => {
    const store = stores.open({
      db: url,
      table: uniqueTable(),
      gcInterval: 0,
      createTable: false,
    });
    const events: OperationEvent[] = [];
    store.on('operation', (event) => events.push(event));
    await assert.rejects(store.read(newId()), (error: { code: string }) => {
      assert.equal(events.at(-1)?.outcome, 'error');
      assert.equal(events.at(-1)?.code, error.code);
      return true;
    });
  });
});

describe("'cacheLookup' events", () => {
  it('a read on a cached store tells whether memory answered it', async () => {
    const table = uniqueTable();
    const store = stores.open({ db: url, table, gcInterval: 0, cache: true });
    const writer = stores.open({ db: url, table, gcInterval: 0 });
    // The cache answers once its LISTEN connection is up (a hang guard, not a timing claim).
    for (let tries = 0; !(await store.status()).servers[0]?.cache?.enabled; tries += 1) {
      assert.ok(tries < 500, 'the cache never started listening');
      await sleep(10);
    }
    const lookups: CacheLookupEvent[] = [];
    store.on('cacheLookup', (event) => lookups.push(event));
    const id = newId();
    await writer.write(id, { user: 'ann' }); // another process's write: not in this cache
    // The first read misses and fills the cache (once its notifications are in, as the
    // cache's coherence rules want); a later read is answered from memory.
    let reads = 0;
    while (lookups.at(-1)?.hit !== true) {
      assert.ok(reads < 500, 'the cache never answered');
      await store.read(id);
      reads += 1;
    }
    assert.equal(lookups.length, reads, 'one lookup per read');
    assert.deepEqual(lookups[0], { hit: false });
    assert.ok(reads >= 2);
  });
});
