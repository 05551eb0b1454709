import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { SessionPgsql } from '../../src/index.js';
import { type PostgresServer, startPostgres } from '../helpers/postgres.js';
import { type Data, newId, nextGc, storedKey, storeTracker } from './fixtures.js';

const role = 'session_app';
const table = 'app_sessions';
let server: PostgresServer;
let adminUrl: string;
let appUrl: string;
const stores = storeTracker();

before(async () => {
  // statements of every role are logged with the role's name, to show the app runs no DDL
  server = await startPostgres({
    name: 'least-privilege',
    config: { log_statement: 'all', log_line_prefix: '[%u] ' },
  });
  adminUrl = await server.createDatabase('sessions');
  // the table exists, created by someone else (here: a store running as the superuser)
  const owner = stores.open({ db: adminUrl, table, gcInterval: 0 });
  await owner.length();
  await server.query('REVOKE ALL ON DATABASE sessions FROM PUBLIC');
  await server.query('REVOKE ALL ON SCHEMA public FROM PUBLIC', [], 'sessions');
  appUrl = await server.createRole(role, {
    database: 'sessions',
    grants: [
      `GRANT CONNECT ON DATABASE sessions TO ${role}`,
      `GRANT USAGE ON SCHEMA public TO ${role}`,
      `GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE ${table} TO ${role}`,
    ],
  });
});
after(async () => {
  await stores.closeAll();
  await server?.destroy();
});

async function superuserQuery(sql: string, params: unknown[] = []): Promise<pg.QueryResult> {
  return server.query(sql, params, 'sessions');
}

/** Every operation of the store, as the application would use them. */
async function exercise(store: SessionPgsql<Data>): Promise<void> {
  const id = newId();
  assert.equal(await store.read(id), undefined);
  await store.write(id, { n: 1 }, { address: '198.51.100.7' });
  const loaded = await store.read(id);
  assert.deepEqual(loaded?.data, { n: 1 });
  loaded?.state.setField('field');
  loaded?.state.addError('notice', 'hello');
  await store.write(id, { n: 2 }, { state: loaded?.state });
  assert.equal(await store.touch(id), true);
  const again = await store.read(id);
  assert.deepEqual(again?.data, { n: 2 });
  assert.equal(again?.state.info().accesses, 3);
  assert.equal(again?.state.getError(true).message, 'hello');
  assert.ok((await store.length()) >= 1);
  assert.ok((await store.all()).has(storedKey(id)));
  assert.ok((await store.ids()).includes(storedKey(id)));
  const status = await store.status();
  assert.equal(status.servers[0]?.up, true);
  assert.equal(status.servers[0]?.lastError, null);

  // gc() for cron: the expired row goes, the live one stays
  const dead = newId();
  await store.write(dead, { dead: true });
  await superuserQuery(
    `UPDATE ${table} SET sess_expire = sess_expire - 100000 WHERE sess_id = $1`,
    [storedKey(dead)],
  );
  assert.equal(await store.gc(), 1);
  assert.deepEqual((await store.read(id))?.data, { n: 2 });

  await store.destroy(id);
  assert.equal(await store.read(id), undefined);
  await store.write(newId(), {});
  await store.clear();
  assert.equal(await store.length(), 0);
}

/** Lines of the server log written for the application's role, from an offset in the log. */
function appLog(from: number): string[] {
  return server
    .logs()
    .slice(from)
    .split('\n')
    .filter((line) => line.startsWith(`[${role}] `));
}

describe('a role with only SELECT, INSERT, UPDATE, DELETE on the table', () => {
  it('really has no other right: it cannot create a table', async () => {
    const client = new pg.Client({ connectionString: appUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ rolsuper: boolean; rolcreatedb: boolean }>(
        'SELECT rolsuper, rolcreatedb FROM pg_roles WHERE rolname = current_user',
      );
      assert.deepEqual(rows, [{ rolsuper: false, rolcreatedb: false }]);
      await assert.rejects(client.query('CREATE TABLE intruder (id int)'), { code: '42501' });
      await assert.rejects(client.query(`CREATE INDEX ON ${table} (sess_name)`), {
        code: '42501',
      });
    } finally {
      await client.end();
    }
  });

  it('does everything with createTable: false', async () => {
    await exercise(stores.open({ db: appUrl, table, createTable: false, gcInterval: 0 }));
  });

  it('does everything with createTable: true on the existing table, attempting no DDL', async () => {
    const logStart = server.logs().length;
    await exercise(stores.open({ db: appUrl, table, createTable: true, gcInterval: 0 }));
    // once this marker is in the log, so is everything the role ran before it
    const marker = `marker_${newId()}`;
    const client = new pg.Client({ connectionString: appUrl });
    await client.connect();
    await client.query(`SELECT '${marker}'`);
    await client.end();
    while (!server.logs().includes(marker)) await new Promise((r) => setTimeout(r, 20));
    const lines = appLog(logStart);
    assert.ok(
      lines.some((line) => line.includes('to_regclass')),
      'the table was looked up',
    );
    const ddl = lines.filter((line) => /\b(CREATE|ALTER|DROP)\b/i.test(line));
    assert.deepEqual(ddl, []);
  });

  it("runs the fleet-wide periodic collection (the '!gc' claim) too", async () => {
    const dead = newId();
    await superuserQuery(
      `INSERT INTO ${table} (sess_id, sess_data, sess_expire) VALUES ($1, '{}', 1)`,
      [storedKey(dead)],
    );
    const store = stores.open({
      db: appUrl,
      table,
      createTable: false,
      gcInterval: 1,
      gcCheckMillis: 20,
    });
    const collected = nextGc(store);
    assert.equal(await store.read(dead), undefined); // the first access starts the schedule
    const result = await collected;
    assert.ok(result.deleted >= 1);
    const { rows } = await superuserQuery(
      `SELECT sess_id FROM ${table} WHERE sess_id IN ($1, '!gc') ORDER BY 1`,
      [storedKey(dead)],
    );
    assert.deepEqual(rows, [{ sess_id: '!gc' }]);
  });
});
