/**
 * Failures under Koa, for real. A database that goes away mid-run (a dedicated PostgreSQL,
 * stopped): a request with an existing session gets an error response, never an empty new
 * session, and once the server is back the same cookie finds the same session, unchanged.
 * A save that fails after the read succeeded (a row locked by another transaction; a trigger
 * refusing the write): koa-session saves after the app's middleware and before Koa writes
 * the response, so the client gets the error, not a 200 (nor a redirect), with the app's
 * error handler and with Koa's own.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { Client } from '../helpers/cookie-client.js';
import { type KoaTestApp, startKoaApp } from '../helpers/koa-app.js';
import { type PostgresServer, sharedDatabaseUrl, startPostgres } from '../helpers/postgres.js';
import { type SessionRow, Sql, storedKey } from '../helpers/session-sql.js';

interface ErrorReply {
  code: string | null;
  message: string;
}

describe('the database goes away and comes back', { timeout: 120_000 }, () => {
  const table = 'koa_failure_sessions';
  let server: PostgresServer;
  let sql: Sql;
  let app: KoaTestApp;
  let client: Client;
  let id: string;
  let stored: SessionRow;

  before(async () => {
    server = await startPostgres({ name: 'koa-failure' });
    const url = await server.createDatabase('failure');
    sql = new Sql(url);
    // koa-session does not save an empty new session: a read failure turned into "no
    // session" would answer 200, where a failed save could hide it
    app = await startKoaApp({
      store: { db: url, table, connectTimeoutMillis: 1000, queryTimeoutMillis: 2000 },
      session: { maxAge: 600_000 },
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
    assert.equal(app.errors.length, errorsBefore + 2, 'the errors went to the error handler');
  });

  it('a new visitor meanwhile gets an error too: the save of its session failed', async () => {
    const visitor = app.client();
    const r = await visitor.post<ErrorReply>('/increment');
    assert.equal(r.status, 500);
    assert.equal(r.body.code, 'SPG_DB_UNREACHABLE');
    assert.equal(r.setCookie, undefined, 'no cookie for a session that was not stored');
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
});

for (const errorHandler of [true, false]) {
  describe(`a save that fails after the read succeeded (${errorHandler ? "the app's error handler" : "Koa's error handling"})`, () => {
    const table = `koa_failing_saves_${errorHandler ? 'app' : 'koa'}`;
    let url: string;
    let sql: Sql;
    let app: KoaTestApp;

    before(async () => {
      url = await sharedDatabaseUrl();
      sql = new Sql(url);
      // lock_timeout is half of it: a locked row fails the write after 500 ms
      app = await startKoaApp({
        store: { db: url, table, queryTimeoutMillis: 1000 },
        errorHandler,
      });
    });
    after(async () => {
      await app.close();
      await sql.close();
    });

    /** The error's code, from the app's answer or from what reached Koa's `error` event. */
    function codeOf(r: { body: unknown }): unknown {
      if (errorHandler) return (r.body as ErrorReply).code;
      assert.equal(r.body, 'Internal Server Error', "Koa's answer, no message of ours");
      return (app.errors.at(-1) as { code?: unknown }).code;
    }

    it('a row locked by another transaction: an error answer, nothing stored', async () => {
      const client = app.client();
      const id = (await client.post('/increment')).body.id;
      const before = await sql.mustRow(table, id);
      const locker = new pg.Client({ connectionString: url });
      await locker.connect();
      try {
        await locker.query('BEGIN');
        await locker.query(
          `SELECT 1 FROM ${pg.escapeIdentifier(table)} WHERE sess_id = $1 FOR UPDATE`,
          [storedKey(id)],
        );
        const r = await client.post('/increment');
        assert.equal(r.status, 500, 'an error, not 200');
        assert.equal(codeOf(r), 'SPG_SESSION_LOCKED');
        assert.equal(r.setCookie, undefined);
      } finally {
        await locker.query('ROLLBACK');
        await locker.end();
      }
      const row = await sql.mustRow(table, id);
      assert.equal(row.sess_data, before.sess_data, 'the failed change is not stored');
      const r = await client.get('/session');
      assert.deepEqual(r.body.data, { counter: 1 }, 'what the client reads is what was stored');
    });

    it('a trigger that refuses writes: an error answer, for a redirect and a new session too', async () => {
      const client = app.client();
      const id = (await client.post('/increment')).body.id;
      const fn = pg.escapeIdentifier(`${table}_refuse`);
      await sql.query(`CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'writes refused by the test'; END $$`);
      await sql.query(`CREATE TRIGGER refuse BEFORE INSERT OR UPDATE ON ${pg.escapeIdentifier(table)}
        FOR EACH ROW EXECUTE FUNCTION ${fn}()`);
      try {
        const r = await client.post('/increment');
        assert.equal(r.status, 500);
        assert.equal(codeOf(r), 'SPG_DB_QUERY_FAILED');
        const redirect = await client.post('/redirect');
        assert.equal(redirect.status, 500, 'not the redirect');
        assert.equal(redirect.location, null, 'no Location of the answer given up');
        assert.equal(codeOf(redirect), 'SPG_DB_QUERY_FAILED');
        const visitor = app.client();
        const fresh = await visitor.post('/increment');
        assert.equal(fresh.status, 500);
        assert.equal(fresh.setCookie, undefined, 'no cookie for a session that was not stored');
      } finally {
        await sql.query(`DROP TRIGGER refuse ON ${pg.escapeIdentifier(table)}`);
      }
      assert.deepEqual((await sql.data(table, id)).counter, 1);
      const redirect = await client.post('/redirect');
      assert.equal(redirect.status, 302, 'a redirect once the save succeeds');
      assert.equal((await sql.data(table, id)).counter, 2);
    });
  });
}
