/**
 * What is Fastify's own in sessions with @fastify/session and the fastify PgsqlStore, on
 * real PostgreSQL (what every framework does is in test/frameworks/sessions.test.ts): the
 * session's cookie as restored from the row.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type FastifyTestApp, startFastifyApp } from '../helpers/fastify-app.js';
import { sharedDatabaseUrl } from '../helpers/postgres.js';
import { assertNear, Sql } from '../helpers/session-sql.js';

const MAX_AGE_SECONDS = 3600;

const url = await sharedDatabaseUrl();
const sql = new Sql(url);
after(() => sql.close());

describe('sessions with @fastify/session', () => {
  const table = 'fastify_own_sessions';
  let app: FastifyTestApp;

  before(async () => {
    app = await startFastifyApp({
      store: { db: url, table },
      session: { cookie: { maxAge: MAX_AGE_SECONDS * 1000 } },
    });
  });
  after(() => app.close());

  it("the session's cookie as restored: its maxAge kept, its expiry the row's", async () => {
    const client = app.client();
    const id = (await client.post('/increment')).body.id;
    const cookie = await client.get<{ expires: string; originalMaxAge: number }>('/cookie');
    assert.equal(cookie.body.originalMaxAge, MAX_AGE_SECONDS * 1000);
    const row = await sql.mustRow(table, id);
    assertNear(new Date(cookie.body.expires).getTime() / 1000, row.sess_expire, 3, 'expiry');
  });
});
