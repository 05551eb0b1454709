/**
 * Failures under every framework, for real. A database that goes away mid-run (a dedicated
 * PostgreSQL, stopped, then paused): a request with an existing session gets an error
 * response, never an empty new session, and once the server is back the same cookie finds
 * the same session, unchanged. A save that fails after the read succeeded (a row locked by
 * another transaction; a trigger refusing the write): where the session library saves
 * before the response goes out (@fastify/session in its onSend hook, koa-session before
 * Koa writes the response, the Hono middleware after the handler), the client gets the
 * error, not a 200 nor a redirect, with the app's error handler and with Koa's own.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { Client } from '../helpers/cookie-client.js';
import { type PostgresServer, sharedDatabaseUrl, startPostgres } from '../helpers/postgres.js';
import { type SessionRow, Sql, storedKey } from '../helpers/session-sql.js';
import { expressDriver } from './drivers/express-driver.js';
import { fastifyDriver } from './drivers/fastify-driver.js';
import type { ErrorHandling, FrameworkApp, FrameworkDriver } from './drivers/framework-driver.js';
import { honoDriver } from './drivers/hono-driver.js';
import { koaDriver } from './drivers/koa-driver.js';

interface ErrorReply {
  code: string | null;
  message: string;
}

function databaseGoesAway(framework: FrameworkDriver): void {
  describe('the database goes away and comes back', { timeout: 120_000 }, () => {
    const table = `${framework.name}_failure_sessions`;
    let server: PostgresServer;
    let sql: Sql;
    let app: FrameworkApp;
    let client: Client;
    let id: string;
    let stored: SessionRow;

    before(async () => {
      server = await startPostgres({ name: `${framework.name}-failure` });
      const url = await server.createDatabase('failure');
      sql = new Sql(url);
      app = await framework.start(
        { db: url, table, connectTimeoutMillis: 1000, queryTimeoutMillis: 2000 },
        // an empty new session is then not saved: a read failure turned into "no session"
        // would answer 200, where a failed save could hide it
        { lifetime: 600, saveUninitialized: false },
      );
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
      assert.equal(app.errors.length, errorsBefore + 2, "the errors went to the app's handler");
    });

    if (framework.savesBeforeResponse) {
      it('a new visitor meanwhile gets an error too: the save of its session failed', async () => {
        const visitor = app.client();
        const r = await visitor.post<ErrorReply>('/increment');
        assert.equal(r.status, 500);
        assert.equal(r.body.code, 'SPG_DB_UNREACHABLE');
        assert.equal(r.setCookie, undefined, 'no cookie for a session that was not stored');
      });
    }

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
}

function saveFails(framework: FrameworkDriver, errorHandling: ErrorHandling): void {
  const handler = errorHandling === 'app' ? "the app's error handler" : "the framework's own";
  describe(`a save that fails after the read succeeded (${handler})`, () => {
    const table = `${framework.name}_failing_saves_${errorHandling}`;
    let url: string;
    let sql: Sql;
    let app: FrameworkApp;

    before(async () => {
      url = await sharedDatabaseUrl();
      sql = new Sql(url);
      // lock_timeout is half of it: a locked row fails the write after 500 ms
      app = await framework.start({ db: url, table, queryTimeoutMillis: 1000 }, { errorHandling });
    });
    after(async () => {
      await app.close();
      await sql.close();
    });

    it('a row locked by another transaction: SPG_SESSION_LOCKED reaches the client, nothing stored', async () => {
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
        assert.equal(app.errorCode(r), 'SPG_SESSION_LOCKED');
        assert.equal(r.setCookie, undefined, 'no cookie for a change that was not stored');
        const redirect = await client.post('/redirect');
        assert.equal(redirect.status, 500, 'an error, not the redirect');
        if (framework.errorDropsHeaders) {
          assert.equal(redirect.location, null, "the given-up answer's Location is gone");
        }
        assert.equal(app.errorCode(redirect), 'SPG_SESSION_LOCKED');
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
        assert.equal(app.errorCode(r), 'SPG_DB_QUERY_FAILED');
        const redirect = await client.post('/redirect');
        assert.equal(redirect.status, 500, 'not the redirect');
        if (framework.errorDropsHeaders) {
          assert.equal(redirect.location, null, 'no Location of the answer given up');
        }
        assert.equal(app.errorCode(redirect), 'SPG_DB_QUERY_FAILED');
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

for (const framework of [expressDriver, fastifyDriver, koaDriver, honoDriver]) {
  describe(framework.name, () => {
    databaseGoesAway(framework);
    if (!framework.savesBeforeResponse) return;
    for (const errorHandling of framework.errorHandlings) saveFails(framework, errorHandling);
  });
}
