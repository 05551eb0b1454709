/**
 * The rest of the express-session Store interface on real sessions: all, length, ids, clear,
 * and destroy through a logout route.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { SessionData } from 'express-session';
import { type Client, Sql, startApp, storedKey, type TestApp } from '../helpers/express-app.js';
import { sharedDatabaseUrl } from '../helpers/postgres.js';

const url = await sharedDatabaseUrl();
const sql = new Sql(url);
after(() => sql.close());

describe('the store interface', () => {
  const table = 'store_api';
  let app: TestApp;
  const clients: Client[] = [];
  const ids: string[] = [];

  const all = () => promisify(app.store.all.bind(app.store))();
  const length = () => promisify(app.store.length.bind(app.store))();
  const storedIds = () => promisify(app.store.ids.bind(app.store))();
  const clear = () => promisify(app.store.clear.bind(app.store))();

  before(async () => {
    app = await startApp({ store: { db: url, table }, session: { cookie: { maxAge: 600_000 } } });
    for (let i = 1; i <= 3; i++) {
      const client = app.client();
      for (let n = 0; n < i; n++) await client.post('/increment');
      assert.ok(client.sessionId);
      clients.push(client);
      ids.push(client.sessionId);
    }
  });
  after(() => app.close());

  it('all, ids and length list the live sessions, by stored key (SHA-256 of the id)', async () => {
    const sessions = (await all()) as Record<string, SessionData & { counter?: number }>;
    const expected = Object.fromEntries(ids.map((id, i) => [storedKey(id), i + 1]));
    assert.deepEqual(
      Object.fromEntries(Object.entries(sessions).map(([key, s]) => [key, s.counter])),
      expected,
    );
    assert.deepEqual(((await storedIds()) ?? []).sort(), Object.keys(expected).sort());
    assert.equal(await length(), 3);
  });

  it('an expired session is left out of all, ids and length', async () => {
    const [expired] = ids;
    assert.ok(expired);
    await sql.expireIn(table, expired, -1);
    assert.equal(await length(), 2);
    assert.ok(!((await storedIds()) ?? []).includes(storedKey(expired)));
    assert.ok(!(storedKey(expired) in ((await all()) ?? {})));
    assert.equal(await sql.count(table), 3, 'the row is still there');
  });

  it('destroy (a logout) deletes the session: its cookie then gets a new one', async () => {
    const client = clients[1];
    const id = ids[1];
    assert.ok(client && id);
    const r = await client.post<{ ok: boolean }>('/logout');
    assert.equal(r.status, 200);
    assert.equal(await sql.row(table, id), undefined);
    const next = await client.get('/session');
    assert.notEqual(next.body.id, id);
    assert.deepEqual(next.body.data, {});
    assert.equal(await length(), 1);
  });

  it('clear deletes every session', async () => {
    await clear();
    assert.equal(await length(), 0);
    assert.equal(await sql.count(table), 0);
    const last = clients[2];
    assert.ok(last);
    assert.deepEqual((await last.get('/session')).body.data, {});
    assert.deepEqual(app.errors, []);
  });
});
