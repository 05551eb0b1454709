/**
 * A database that goes away and comes back, on a dedicated real PostgreSQL: a request with an
 * existing session gets an error (HTTP 500, SPG_DB_UNREACHABLE), never an empty new session,
 * and once the server is back the same cookie finds the same session, unchanged.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type Client,
  type SessionRow,
  Sql,
  startApp,
  type TestApp,
} from '../helpers/express-app.js';
import { type PostgresServer, startPostgres } from '../helpers/postgres.js';

interface ErrorReply {
  code: string | null;
  message: string;
}

describe('the database goes away and comes back', { timeout: 120_000 }, () => {
  const table = 'failure_sessions';
  let server: PostgresServer;
  let url: string;
  let sql: Sql;
  let app: TestApp;
  let client: Client;
  let id: string;
  let stored: SessionRow;

  before(async () => {
    server = await startPostgres({ name: 'express-failure' });
    url = await server.createDatabase('failure');
    sql = new Sql(url);
    app = await startApp({
      store: { db: url, table, connectTimeoutMillis: 1000, queryTimeoutMillis: 2000 },
      session: { cookie: { maxAge: 600_000 } },
    });
    client = app.client();
    await client.post('/set?key=basket&value=apples');
    const r = await client.post('/increment');
    assert.deepEqual(r.body.data, { basket: 'apples', counter: 1 });
    id = r.body.id;
    stored = await sql.mustRow(table, id);
  });
  after(async () => {
    await app?.close();
    await sql?.close();
    await server?.destroy();
  });

  /** A request while the database is unreachable: an error, no session, no cookie. */
  async function assertUnreachable(method: 'GET' | 'POST', path: string): Promise<void> {
    const r = await client.request<ErrorReply>(method, path);
    assert.equal(r.status, 500);
    assert.equal(r.body.code, 'SPG_DB_UNREACHABLE');
    assert.equal(r.setCookie, undefined, 'no new session cookie');
    assert.equal(client.sessionId, id, 'the client keeps its session cookie');
  }

  it('a stopped server: requests with the session cookie fail with SPG_DB_UNREACHABLE', async () => {
    await server.stop('immediate');
    const errorsBefore = app.errors.length;
    await assertUnreachable('GET', '/session');
    await assertUnreachable('POST', '/increment');
    assert.equal(app.errors.length, errorsBefore + 2, 'the errors went to Express');
  });

  it('a server back up: the same cookie finds the same session, unchanged', async () => {
    await server.start();
    const r = await client.get('/session');
    assert.equal(r.status, 200);
    assert.equal(r.body.id, id);
    assert.deepEqual(r.body.data, { basket: 'apples', counter: 1 });
    const row = await sql.mustRow(table, id);
    assert.equal(row.sess_data, stored.sess_data);
    assert.equal(row.sess_created, stored.sess_created);
    const next = await client.post('/increment');
    assert.deepEqual(next.body.data, { basket: 'apples', counter: 2 });
  });

  it('a hanging server (paused): the request fails with SPG_DB_UNREACHABLE, then recovers', async () => {
    server.pause();
    try {
      await assertUnreachable('GET', '/session');
    } finally {
      server.resume();
    }
    const r = await client.get('/session');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.data, { basket: 'apples', counter: 2 });
  });
});
