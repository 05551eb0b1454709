/**
 * Running out of connections, for real: the store's own pool (every connection busy on a
 * locked row) and the server's (a role at its connection limit). Each fails with its own
 * code, never marks the server down, and the store serves again once connections free up.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import {
  type Data,
  failoverEvents,
  newId,
  quoted,
  storedKey,
  uniqueTable,
  useTestDatabase,
} from '../core/fixtures.js';
import { reportFault } from './fault-report.js';

const db = useTestDatabase();

describe('connections run out', () => {
  it("the store's pool: SPG_POOL_EXHAUSTED, the server not marked down", async (t) => {
    const table = uniqueTable();
    const store = db.stores.open<Data>({
      db: db.url,
      table,
      gcInterval: 0,
      poolSize: 1,
      connectTimeoutMillis: 200,
      queryTimeoutMillis: 4000,
    });
    const failovers = failoverEvents(store);
    const [busy, other] = [newId(), newId()];
    await store.write(busy, { n: 0 });
    await store.write(other, { n: 0 });
    // the pool's one connection waits on a row lock held by another transaction
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    await holder.query('BEGIN');
    await holder.query(`SELECT 1 FROM ${quoted(table)} WHERE sess_id = $1 FOR UPDATE`, [
      storedKey(busy),
    ]);
    const blocked = store.write(busy, { n: 1 }).catch((error: unknown) => error);
    try {
      await new Promise((resolve) => setTimeout(resolve, 50)); // the write holds the connection
      await assert.rejects(store.read(other), { code: 'SPG_POOL_EXHAUSTED' });
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    await blocked;
    assert.deepEqual((await store.read(other))?.data, { n: 0 });
    assert.deepEqual(failovers, []);
    reportFault(t, import.meta.url, {
      fault: 'Pool exhausted',
      done: 'poolSize 1, its connection held by a write waiting on a locked row; a second request needs a connection',
      held: 'SPG_POOL_EXHAUSTED after connectTimeoutMillis; the server is not marked down; served again once free',
      sessions: 2,
      lost: 0,
      failed: 2,
    });
  });

  it("the server's: a role at its connection limit is SPG_DB_UNREACHABLE, then served again", async (t) => {
    const table = uniqueTable();
    const role = `spg_limit_${process.pid}`;
    await db.stores.open<Data>({ db: db.url, table, gcInterval: 0 }).length(); // creates the table
    await db.admin.query(`CREATE ROLE ${role} LOGIN PASSWORD 'limit' CONNECTION LIMIT 1`);
    await db.admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ${quoted(table)} TO ${role}`);
    const roleUrl = new URL(db.url);
    roleUrl.username = role;
    roleUrl.password = 'limit';
    const squatter = new pg.Client({ connectionString: roleUrl.href });
    await squatter.connect(); // the role's one connection
    const store = db.stores.open<Data>({
      db: roleUrl.href,
      table,
      gcInterval: 0,
      createTable: false,
      healthCheckMillis: 50,
    });
    const id = newId();
    try {
      await assert.rejects(store.write(id, { n: 1 }), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'SPG_DB_UNREACHABLE');
        assert.equal((error.cause as { code?: string }).code, '53300');
        return true;
      });
    } finally {
      await squatter.end();
    }
    for (let attempt = 0; ; attempt++) {
      const written = await store.write(id, { n: 1 }).then(
        () => true,
        () => false,
      );
      if (written) break;
      assert.ok(attempt < 200, 'served again once the connection was freed');
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    assert.deepEqual((await store.read(id))?.data, { n: 1 });
    reportFault(t, import.meta.url, {
      fault: 'Connection limit reached',
      done: 'a role with CONNECTION LIMIT 1 whose one connection another client holds',
      held: 'SPG_DB_UNREACHABLE (SQLSTATE 53300) while it lasts; the store is served again once the connection is freed',
      sessions: 1,
      lost: 0,
      failed: 1,
    });
  });
});
