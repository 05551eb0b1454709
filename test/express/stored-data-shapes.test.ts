/**
 * A row whose data is valid JSON but not an object (written by the core API, another app or
 * a custom serializer): express-session cannot use it. The request fails with a coded
 * error, the process keeps running, and the row is left as it was.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Sql, startApp, type TestApp } from '../helpers/express-app.js';
import { sharedDatabaseUrl } from '../helpers/postgres.js';

const SHAPES: Record<string, unknown> = {
  'a number': 42,
  'a string': 'just text',
  'a boolean': true,
  null: null,
  'an array': [1, 2, 3],
};

const url = await sharedDatabaseUrl();
const sql = new Sql(url);
after(() => sql.close());

describe('stored data that is not an object', () => {
  const table = 'data_shape_sessions';
  let app: TestApp;

  before(async () => {
    app = await startApp({ store: { db: url, table } });
  });
  after(() => app.close());

  for (const [shape, value] of Object.entries(SHAPES)) {
    it(`${shape}: the request fails with SPG_INVALID_SESSION_DATA; the row is untouched`, async () => {
      const id = `shape${shape.replaceAll(' ', '')}${'x'.repeat(24)}`;
      await app.store.core.write(id, value as never);
      const before = await sql.row(table, id);
      assert.equal(before?.sess_data, JSON.stringify(value));
      const client = app.client();
      client.useSessionId(id);
      const reply = await client.get<{ code: string; message: string }>('/session');
      assert.equal(reply.status, 500);
      assert.equal(reply.body.code, 'SPG_INVALID_SESSION_DATA');
      assert.match(reply.body.message, /not an object/);
      assert.equal(reply.setCookie, undefined, 'no new session was given instead');
      assert.deepEqual(await sql.row(table, id), before);
      // the process is still serving
      const fresh = await app.client().post('/increment');
      assert.equal(fresh.status, 200);
    });
  }
});
