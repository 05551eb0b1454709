import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type pg from 'pg';
import {
  databaseNow,
  expireInDatabase,
  newId,
  storedKey,
  storedRow,
  storeTracker,
  uniqueTable,
  useSharedDatabase,
} from './fixtures.js';

const DAY_MILLIS = 86_400_000;

let url: string;
let admin: pg.Pool;
const stores = storeTracker();

useSharedDatabase(stores, (sharedUrl, pool) => {
  url = sharedUrl;
  admin = pool;
});

describe("the database's clock decides expiry, not the app server's", () => {
  for (const skewDays of [2, -2]) {
    it(`an app server whose clock is ${skewDays > 0 ? 'ahead' : 'behind'} by 2 days`, async (t) => {
      const table = uniqueTable();
      const store = stores.open({ db: url, table, gcInterval: 0 });
      const realNow = Date.now.bind(Date);
      t.mock.method(Date, 'now', () => realNow() + skewDays * DAY_MILLIS);
      assert.ok(Math.abs(Date.now() - realNow() - skewDays * DAY_MILLIS) < 1000, 'clock skewed');

      // written with a 60 s lifetime: still live for an app clock 2 days ahead
      const id = newId();
      await store.write(id, { skew: skewDays }, { lifetimeSeconds: 60 });
      const loaded = await store.read(id);
      assert.deepEqual(loaded?.data, { skew: skewDays });
      const info = loaded?.state.info();
      const dbNow = await databaseNow(admin);
      // created, modified and expires are the database's times, not the skewed app clock's
      assert.ok(Math.abs((info?.created?.getTime() ?? 0) / 1000 - dbNow) < 3600);
      assert.equal(((info?.expires?.getTime() ?? 0) - (info?.created?.getTime() ?? 0)) / 1000, 60);
      const row = await storedRow(admin, table, storedKey(id));
      assert.ok((row?.sess_expire ?? 0) > dbNow, 'not expired by the database clock');
      assert.equal(await store.touch(id, { lifetimeSeconds: 60 }), true);

      // a session whose short lifetime has passed by the database clock is gone, even for
      // an app clock 2 days behind that would still call it live
      const short = newId();
      await store.write(short, { short: true }, { lifetimeSeconds: 1 });
      const expire = (await storedRow(admin, table, storedKey(short)))?.sess_expire ?? 0;
      while ((await databaseNow(admin)) < expire + 1) await new Promise((r) => setTimeout(r, 100));
      assert.equal(await store.read(short), undefined);
      assert.equal(await store.touch(short), false);
      assert.equal(await store.length(), 1);
      assert.deepEqual([...(await store.all()).keys()], [storedKey(id)]);
    });
  }

  it('two app servers a day apart agree on the same session', async (t) => {
    const table = uniqueTable();
    const a = stores.open({ db: url, table, gcInterval: 0 });
    const b = stores.open({ db: url, table, gcInterval: 0 });
    const realNow = Date.now.bind(Date);
    const clock = t.mock.method(Date, 'now', () => realNow() + DAY_MILLIS);
    const id = newId();
    await a.write(id, { from: 'a' }, { lifetimeSeconds: 30 });
    clock.mock.mockImplementation(() => realNow() - DAY_MILLIS);
    assert.deepEqual((await b.read(id))?.data, { from: 'a' });
    await expireInDatabase(admin, table, storedKey(id), { secondsAgo: 1 });
    clock.mock.mockImplementation(() => realNow() + DAY_MILLIS);
    assert.equal(await a.read(id), undefined);
    clock.mock.mockImplementation(() => realNow() - DAY_MILLIS);
    assert.equal(await b.read(id), undefined);
  });
});

describe('an expired row', () => {
  it('is never returned, even before garbage collection', async () => {
    const table = uniqueTable();
    const store = stores.open({ db: url, table, gcInterval: 0, shortCircuit: true });
    const id = newId();
    const other = newId();
    await store.write(id, { secret: 'old' });
    await store.write(other, { other: true });
    const before = await store.read(id);
    assert.deepEqual(before?.data, { secret: 'old' });
    await expireInDatabase(admin, table, storedKey(id), { secondsAgo: 1 });
    assert.equal(await store.read(id), undefined);
    assert.equal(await store.length(), 1);
    assert.deepEqual([...(await store.all()).keys()], [storedKey(other)]);
    assert.deepEqual(await store.ids(), [storedKey(other)]);
    // a touch does not bring it back, even with the state read while it was live
    assert.equal(await store.touch(id), false);
    assert.equal(await store.touch(id, { state: before?.state }), false);
    assert.equal(await store.read(id), undefined);
    // the row is still there: nothing collected it
    assert.equal((await storedRow(admin, table, storedKey(id)))?.sess_data, '{"secret":"old"}');
    assert.equal((await store.status()).servers[0]?.statements.gcDelete, undefined);
  });

  it('without keepExpired: the next write starts a new session (counter 1, new created)', async () => {
    const table = uniqueTable();
    const store = stores.open({ db: url, table, gcInterval: 0, shortCircuit: true });
    const id = newId();
    await store.write(id, { n: 1 }, { address: '203.0.113.1' });
    const loaded = await store.read(id);
    loaded?.state.setField('custom');
    loaded?.state.addError('error', 'boom');
    await store.write(id, { n: 2 }, { state: loaded?.state });
    assert.equal((await storedRow(admin, table, storedKey(id)))?.sess_counter, 2);
    await expireInDatabase(admin, table, storedKey(id), { createdSecondsAgo: 5000 });
    const old = await storedRow(admin, table, storedKey(id));

    assert.equal(await store.read(id), undefined);
    await store.write(id, { fresh: true }, { address: '203.0.113.2' });
    const row = await storedRow(admin, table, storedKey(id));
    const dbNow = await databaseNow(admin);
    assert.equal(row?.sess_counter, 1);
    assert.ok((row?.sess_created ?? 0) > (old?.sess_created ?? 0) + 4000, 'created anew');
    assert.ok(Math.abs((row?.sess_created ?? 0) - dbNow) < 60);
    assert.equal(row?.sess_addr_created, '203.0.113.2');
    assert.equal(row?.sess_error, 0);
    assert.equal(row?.sess_err_message, null);
    assert.equal(row?.sess_custom, null);
    assert.deepEqual((await store.read(id))?.data, { fresh: true });
  });

  describe('with keepExpired', () => {
    it('comes back without data but with its metadata', async () => {
      const table = uniqueTable();
      const store = stores.open({ db: url, table, gcInterval: 0, keepExpired: true });
      const id = newId();
      await store.write(id, { n: 1 }, { address: '203.0.113.10' });
      const first = await store.read(id);
      first?.state.setField('kept field');
      first?.state.addError('warning', 'w');
      await store.write(id, { n: 2 }, { state: first?.state, address: '203.0.113.11' });
      await expireInDatabase(admin, table, storedKey(id), { createdSecondsAgo: 5000 });
      const old = await storedRow(admin, table, storedKey(id));

      const loaded = await store.read(id);
      assert.ok(loaded, 'the session is returned');
      assert.equal(loaded.data, undefined);
      const info = loaded.state.info();
      assert.equal(info.accesses, 2);
      assert.equal(info.created?.getTime(), (old?.sess_created ?? 0) * 1000);
      assert.equal(info.createdAddress, '203.0.113.10');
      assert.equal(info.modifiedAddress, '203.0.113.11');
      assert.equal(info.warnings, 1);
      assert.equal(info.custom, 'kept field');
      // still not live for the other calls
      assert.equal(await store.length(), 0);
      assert.equal((await store.all()).size, 0);
    });

    for (const shortCircuit of [false, true]) {
      it(`the next write continues the same row (shortCircuit: ${shortCircuit})`, async () => {
        const table = uniqueTable();
        const store = stores.open({
          db: url,
          table,
          gcInterval: 0,
          keepExpired: true,
          shortCircuit,
        });
        const id = newId();
        await store.write(id, {}, { address: '203.0.113.20' });
        const first = await store.read(id);
        await store.write(id, { n: 2 }, { state: first?.state });
        await expireInDatabase(admin, table, storedKey(id), { createdSecondsAgo: 5000 });
        const old = await storedRow(admin, table, storedKey(id));

        const loaded = await store.read(id);
        assert.equal(loaded?.data, undefined);
        // the application keeps the empty session it got: written anyway, even with shortCircuit
        assert.equal(
          await store.write(id, {}, { state: loaded?.state, address: '203.0.113.21' }),
          true,
        );
        const row = await storedRow(admin, table, storedKey(id));
        const dbNow = await databaseNow(admin);
        assert.equal(row?.sess_counter, 3);
        assert.equal(row?.sess_created, old?.sess_created);
        assert.equal(row?.sess_addr_created, '203.0.113.20');
        assert.equal(row?.sess_addr_modified, '203.0.113.21');
        assert.ok((row?.sess_expire ?? 0) > dbNow, 'live again');
        const again = await store.read(id);
        assert.deepEqual(again?.data, {});
        assert.equal(again?.state.info().accesses, 3);
      });
    }
  });
});
