/**
 * Issue 11: inspect() shows one session's metadata (times by the database's clock) and its
 * data decoded with the configured serializer; a row that does not decode gives its text
 * and the error instead of throwing. By session id, or by stored key, hashIds on and off.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type Data,
  newId,
  quoted,
  storedKey,
  storedRow,
  uniqueTable,
  useTestDatabase,
} from '../core/fixtures.js';

const db = useTestDatabase();

for (const hashIds of [true, false]) {
  const keyOf = (id: string) => (hashIds ? storedKey(id) : id);

  describe(`inspect, hashIds: ${hashIds}`, () => {
    it('returns the metadata and the decoded data, by id and by stored key', async () => {
      const table = uniqueTable();
      const store = db.stores.open<Data>({ db: db.url, table, gcInterval: 0, hashIds });
      const id = newId();
      await store.write(id, { cart: [1, 2] }, { address: '192.0.2.1' });
      const loaded = await store.read(id);
      loaded?.state.setField('user-42');
      loaded?.state.addError('warning', 'card declined');
      await store.write(id, { cart: [1, 2, 3] }, { state: loaded?.state, address: '192.0.2.9' });
      const row = await storedRow(db.admin, table, keyOf(id));
      assert.ok(row);
      const expected = {
        key: keyOf(id),
        server: { index: 0, connection: (await store.status()).servers[0]?.connection },
        name: row.sess_name,
        created: new Date(row.sess_created * 1000),
        modified: new Date(row.sess_modified * 1000),
        expires: new Date(row.sess_expire * 1000),
        expired: false,
        accesses: 2,
        createdAddress: '192.0.2.1',
        modifiedAddress: '192.0.2.9',
        custom: 'user-42',
        errors: 0,
        warnings: 1,
        notices: 0,
        errorMessage: 'card declined',
        bytes: Buffer.byteLength(JSON.stringify({ cart: [1, 2, 3] })),
        data: { cart: [1, 2, 3] },
      };
      assert.deepEqual(await store.inspect(id), expected);
      assert.deepEqual(await store.inspect(keyOf(id), { byKey: true }), expected);
      assert.equal(await store.inspect(newId()), undefined);
      assert.equal(await store.inspect('not an id!'), undefined);
      assert.equal(await store.inspect('!gc', { byKey: true }), undefined);
    });

    it('gives the stored text and the decode error of a row that does not decode', async () => {
      const table = uniqueTable();
      const store = db.stores.open<Data>({ db: db.url, table, gcInterval: 0, hashIds });
      const id = newId();
      await store.write(id, { n: 1 });
      await db.admin.query(`UPDATE ${quoted(table)} SET sess_data = '{"n":' WHERE sess_id = $1`, [
        keyOf(id),
      ]);
      await assert.rejects(store.read(id), { code: 'SPG_PARSE_FAILED' });
      const inspected = await store.inspect(id);
      assert.equal(inspected?.data, undefined);
      assert.equal(inspected?.raw, '{"n":');
      assert.equal(inspected?.decodeError?.code, 'SPG_PARSE_FAILED');
      assert.equal(inspected?.bytes, 5);
    });

    it('shows an expired row not collected yet, flagged expired', async () => {
      const table = uniqueTable();
      const store = db.stores.open<Data>({ db: db.url, table, gcInterval: 0, hashIds });
      const id = newId();
      await store.write(id, { n: 1 });
      await db.admin.query(
        `UPDATE ${quoted(table)} SET sess_expire = floor(extract(epoch from now()))::bigint - 5 WHERE sess_id = $1`,
        [keyOf(id)],
      );
      assert.equal(await store.read(id), undefined);
      const inspected = await store.inspect(id);
      assert.equal(inspected?.expired, true);
      assert.deepEqual(inspected?.data, { n: 1 });
    });
  });
}

describe('inspect with the php serializer', () => {
  it("decodes a row PHP wrote with the store's serializer", async () => {
    const table = uniqueTable();
    const store = db.stores.open<Data>({ db: db.url, table, gcInterval: 0, serializer: 'php' });
    const id = newId();
    await store.write(id, { n: 1 }); // creates the table
    await db.admin.query(`UPDATE ${quoted(table)} SET sess_data = $2 WHERE sess_id = $1`, [
      storedKey(id),
      'user|s:5:"alice";n|i:7;',
    ]);
    const inspected = await store.inspect(id);
    assert.equal(inspected?.decodeError, undefined);
    assert.deepEqual({ ...(inspected?.data as Data) }, { user: 'alice', n: 7 });
  });
});
