/**
 * Connection strings: what cannot be used is refused when the store is built, a refused
 * login is an answer of PostgreSQL (not an unreachable server), and no password is shown.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionPgsql } from '../../src/index.js';
import { type Data, failoverEvents, newId, uniqueTable, useTestDatabase } from './fixtures.js';

const db = useTestDatabase();

describe('connection strings', () => {
  for (const db of [
    'postgres://user:50%@127.0.0.1/app',
    'postgres://[::1/app',
    'postgresql://a b',
  ]) {
    it(`an unparsable URL is refused at construction: ${db}`, () => {
      assert.throws(() => new SessionPgsql({ db }), {
        code: 'SPG_INVALID_OPTION',
        message: /db: cannot parse the postgres:\/\/ URL/,
      });
    });
  }

  it('a password with an escaped space (libpq `a\\ secret`) is hidden whole', async () => {
    const store = new SessionPgsql({ db: 'host=127.0.0.1 port=1 password=a\\ secret user=x' });
    const [server] = (await store.status()).servers;
    assert.equal(server?.connection, 'host=127.0.0.1 port=1 password=*** user=x');
    await store.close();
  });

  it('a refused login is SPG_DB_QUERY_FAILED (SQLSTATE 28P01), and the server is not marked down', async () => {
    const role = `spg_login_${process.pid}`;
    await db.admin.query(`CREATE ROLE ${role} LOGIN PASSWORD 'the-right-one'`);
    const wrong = new URL(db.url);
    wrong.username = role;
    wrong.password = 'a-wrong-one';
    const store = db.stores.open<Data>({ db: wrong.href, table: uniqueTable(), gcInterval: 0 });
    const failovers = failoverEvents(store);
    await assert.rejects(store.read(newId()), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'SPG_DB_QUERY_FAILED');
      assert.equal((error.cause as { code?: string }).code, '28P01');
      assert.equal(error.message.includes('a-wrong-one'), false);
      return true;
    });
    assert.deepEqual(failovers, []);
    const [server] = (await store.status()).servers;
    assert.notEqual(server?.up, false);
  });
});
