/**
 * Compare-and-set does not depend on the database's encoding: the digest it compares is
 * computed by PostgreSQL on both sides. (A digest computed in Node hashes UTF-8 bytes, which
 * a LATIN1 database does not store: every write then looked like a conflict, cost 100
 * UPDATEs and reads, and the merge of concurrent writes degraded to the last one winning.)
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type pg from 'pg';
import { type Data, newId, storeTracker, uniqueTable, useSharedDatabase } from './fixtures.js';

const stores = storeTracker();
let admin: pg.Pool;
let latin1Url: string;
const database = `spg_latin1_${process.pid}`;

useSharedDatabase(stores, (url, pool) => {
  admin = pool;
  const u = new URL(url);
  u.pathname = `/${database}`;
  latin1Url = u.href;
});

/** Non-ASCII text that LATIN1 can store: its UTF-8 bytes are not what the database holds. */
const accented = 'Zoë Müller, café crème, ½ déjà vu';

describe('a LATIN1 database with non-ASCII session data', () => {
  before(async () => {
    await admin.query(
      `CREATE DATABASE ${database} ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`,
    );
  });
  after(async () => {
    await stores.closeAll();
    await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
  });

  it('a write after a read is one UPDATE, as on UTF8', async () => {
    const store = stores.open<Data>({ db: latin1Url, table: uniqueTable(), gcInterval: 0 });
    const id = newId();
    await store.write(id, { name: accented });
    const loaded = await store.read(id);
    assert.deepEqual(loaded?.data, { name: accented });
    const before = (await store.status()).servers[0]?.statements ?? {};
    await store.write(id, { name: accented, visits: 2 }, { state: loaded?.state });
    const after = (await store.status()).servers[0]?.statements ?? {};
    const ran = (kind: string) => (after[kind] ?? 0) - (before[kind] ?? 0);
    assert.equal(ran('update'), 1, 'one compare-and-set UPDATE');
    assert.equal(ran('read'), 0, 'no re-read for a conflict that did not happen');
    assert.deepEqual((await store.read(id))?.data, { name: accented, visits: 2 });
  });

  it('two requests that change different keys at once: both changes are kept', async () => {
    const table = uniqueTable();
    const a = stores.open<Data>({ db: latin1Url, table, gcInterval: 0 });
    const b = stores.open<Data>({ db: latin1Url, table, gcInterval: 0 });
    const id = newId();
    await a.write(id, { name: accented });
    const [readA, readB] = [await a.read(id), await b.read(id)];
    await a.write(id, { name: accented, fromA: 'à' }, { state: readA?.state });
    const before = (await b.status()).servers[0]?.statements.update ?? 0;
    await b.write(id, { name: accented, fromB: 'ß' }, { state: readB?.state });
    const updates = ((await b.status()).servers[0]?.statements.update ?? 0) - before;
    assert.equal(updates, 2, 'one UPDATE that finds the change, one that writes the merge');
    assert.deepEqual((await a.read(id))?.data, { name: accented, fromA: 'à', fromB: 'ß' });
  });
});
