/**
 * Issue 11: revokeByKey (by the stored key `ids()` and `all()` return) and revoke (by
 * session id), with hashIds on and off, and the caches of other store instances dropping
 * what was revoked through the destroys' notifications.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Data, newId, storedKey, uniqueTable, useTestDatabase } from '../core/fixtures.js';
import { cacheOn, sqlReads, until } from './helpers.js';

const db = useTestDatabase();

for (const hashIds of [true, false]) {
  const keyOf = (id: string) => (hashIds ? storedKey(id) : id);

  describe(`revokeByKey and revoke, hashIds: ${hashIds}`, () => {
    it('revokeByKey deletes the session that ids() lists; again, it deletes nothing', async () => {
      const store = db.stores.open<Data>({
        db: db.url,
        table: uniqueTable(),
        gcInterval: 0,
        hashIds,
      });
      const [a, b] = [newId(), newId()];
      await store.write(a, { n: 1 });
      await store.write(b, { n: 2 });
      const keys = await store.ids();
      assert.deepEqual(keys.sort(), [keyOf(a), keyOf(b)].sort());
      if (hashIds) {
        // the digest looks like an id: destroy() hashes it again and deletes nothing
        await store.destroy(keyOf(a));
        assert.equal(await store.length(), 2);
      }
      assert.equal(await store.revokeByKey(keyOf(a)), true);
      assert.equal(await store.read(a), undefined);
      assert.deepEqual((await store.read(b))?.data, { n: 2 });
      assert.equal(await store.revokeByKey(keyOf(a)), false);
      assert.deepEqual(await store.ids(), [keyOf(b)]);
    });

    it('revoke deletes by session id; a malformed or unknown id deletes nothing', async () => {
      const store = db.stores.open<Data>({
        db: db.url,
        table: uniqueTable(),
        gcInterval: 0,
        hashIds,
      });
      const id = newId();
      await store.write(id, { n: 1 });
      assert.equal(await store.revoke('not an id!'), false);
      assert.equal(await store.revoke(newId()), false);
      assert.equal(await store.revoke(id), true);
      assert.equal(await store.read(id), undefined);
      assert.equal(await store.revoke(id), false);
      assert.equal(await store.length(), 0);
    });

    it("another instance's cache drops a revoked session (LISTEN/NOTIFY)", async () => {
      const options = {
        db: db.url,
        table: uniqueTable(),
        gcInterval: 0,
        hashIds,
        cache: true,
        cacheHeartbeatMillis: 200,
      };
      const a = db.stores.open<Data>(options);
      const b = db.stores.open<Data>(options);
      await Promise.all([a.length(), b.length()]); // starts the listeners
      await Promise.all([cacheOn(a), cacheOn(b)]);
      const [byKey, byId] = [newId(), newId()];
      for (const id of [byKey, byId]) {
        await a.write(id, { id });
        // b serves it from its cache (once a's write's notification has come): no SQL
        await until('b to serve the session from its cache', async () => {
          const before = await sqlReads(b);
          assert.deepEqual((await b.read(id))?.data, { id });
          return (await sqlReads(b)) === before ? true : undefined;
        });
      }
      assert.equal(await a.revokeByKey(keyOf(byKey)), true);
      assert.equal(await a.read(byKey), undefined); // a's own cache dropped it at once
      await until('b to drop the session revoked by key', async () =>
        (await b.read(byKey)) === undefined ? true : undefined,
      );
      assert.equal(await a.revoke(byId), true);
      await until('b to drop the session revoked by id', async () =>
        (await b.read(byId)) === undefined ? true : undefined,
      );
    });

    it("revokeUser: another instance's cache drops the user's sessions, others stay", async () => {
      const options = {
        db: db.url,
        table: uniqueTable(),
        gcInterval: 0,
        hashIds,
        cache: true,
        cacheHeartbeatMillis: 200,
      };
      const a = db.stores.open<Data>(options);
      const b = db.stores.open<Data>(options);
      await Promise.all([a.length(), b.length()]);
      await Promise.all([cacheOn(a), cacheOn(b)]);
      const [mine, theirs] = [newId(), newId()];
      for (const [id, user] of [
        [mine, 'user:1'],
        [theirs, 'user:2'],
      ] as const) {
        const state = a.newState(id);
        state.setField(user);
        await a.write(id, { user }, { state });
        await until('b to serve the session from its cache', async () => {
          const before = await sqlReads(b);
          assert.deepEqual((await b.read(id))?.data, { user });
          return (await sqlReads(b)) === before ? true : undefined;
        });
      }
      assert.equal(await a.revokeUser('user:1'), 1);
      await until("b to drop user:1's session", async () =>
        (await b.read(mine)) === undefined ? true : undefined,
      );
      assert.deepEqual((await b.read(theirs))?.data, { user: 'user:2' });
      assert.equal(await a.length(), 1);
    });
  });
}
