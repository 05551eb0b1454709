/**
 * Twenty concurrent requests on one session: the access counter is incremented in SQL (no lost
 * count), and concurrent writes that change different keys of the session are merged key by key.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type Client, Sql, startApp, type TestApp } from '../helpers/express-app.js';
import { sharedDatabaseUrl } from '../helpers/postgres.js';

const CONCURRENT = 20;

const url = await sharedDatabaseUrl();
const sql = new Sql(url);
after(() => sql.close());

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

for (const resave of [false, true]) {
  describe(`20 concurrent requests on one session (resave=${resave})`, () => {
    const table = `concurrency_resave_${resave}`;
    let app: TestApp;
    let client: Client;
    let id: string;

    before(async () => {
      app = await startApp({
        store: { db: url, table, poolSize: 10 },
        session: { resave, cookie: { maxAge: 600_000 } },
      });
      client = app.client();
      const r = await client.post('/set?key=first&value=kept');
      assert.ok(r.setId);
      id = r.setId;
    });
    after(() => app.close());

    it('read-only requests: the access counter goes up by exactly 20', async () => {
      const before = await sql.mustRow(table, id);
      const replies = await Promise.all(range(CONCURRENT).map(() => client.get('/session')));
      for (const r of replies) {
        assert.equal(r.status, 200);
        assert.equal(r.body.id, id);
      }
      const row = await sql.mustRow(table, id);
      assert.equal(row.sess_counter, before.sess_counter + CONCURRENT);
      assert.equal(row.sess_data, before.sess_data);
    });

    it('requests that each set a different key: every key survives, the counter goes up by 20', async () => {
      const before = await sql.mustRow(table, id);
      const replies = await Promise.all(
        range(CONCURRENT).map((i) => client.post(`/set?key=k${i}&value=v${i}`)),
      );
      for (const r of replies) assert.equal(r.body.id, id);
      const row = await sql.mustRow(table, id);
      assert.equal(row.sess_counter, before.sess_counter + CONCURRENT);
      const data = await sql.data(table, id);
      const expected: Record<string, string> = { first: 'kept' };
      for (const i of range(CONCURRENT)) expected[`k${i}`] = `v${i}`;
      const { cookie: _cookie, ...keys } = data;
      assert.deepEqual(keys, expected);
      // and the next request sees them all
      const next = await client.get('/session');
      assert.deepEqual(next.body.data, expected);
    });

    it('writers mixed with readers: no reader writes back the stale session it read', async () => {
      const before = await sql.mustRow(table, id);
      const replies = await Promise.all(
        range(CONCURRENT).map((i) =>
          i % 2 === 0 ? client.post(`/set?key=mixed${i}&value=${i}`) : client.get('/session'),
        ),
      );
      for (const r of replies) assert.equal(r.status, 200);
      const row = await sql.mustRow(table, id);
      assert.equal(row.sess_counter, before.sess_counter + CONCURRENT);
      const data = await sql.data(table, id);
      for (const i of range(CONCURRENT)) {
        if (i % 2 === 0) assert.equal(data[`mixed${i}`], String(i), `key mixed${i}`);
      }
      assert.equal(data.first, 'kept');
      assert.equal(data.k19, 'v19');
      assert.deepEqual(app.errors, []);
    });
  });
}
