/**
 * Sessions through real HTTP with real Fastify 5 + @fastify/session and the fastify
 * PgsqlStore, on real PostgreSQL: created, read, changed, destroyed, regenerated, and
 * expired by the database's clock; what the rows hold after each step.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { expireInDatabase, storedKey } from '../core/fixtures.js';
import { type FastifyTestApp, startFastifyApp } from '../helpers/fastify-app.js';
import { sharedDatabaseUrl } from '../helpers/postgres.js';
import { assertNear, Sql } from '../helpers/session-sql.js';

const MAX_AGE_SECONDS = 3600;

const url = await sharedDatabaseUrl();
const sql = new Sql(url);
after(() => sql.close());

describe('sessions with @fastify/session', () => {
  const table = 'fastify_sessions';
  let app: FastifyTestApp;

  before(async () => {
    app = await startFastifyApp({
      store: { db: url, table },
      session: { cookie: { maxAge: MAX_AGE_SECONDS * 1000 } },
    });
  });
  after(() => app.close());

  it('creates a session: a signed cookie and a row expiring with the cookie', async () => {
    const client = app.client();
    const r = await client.post('/increment');
    assert.equal(r.status, 200);
    assert.ok(r.setId, 'a session cookie');
    assert.equal(r.body.id, r.setId);
    assert.deepEqual(r.body.data, { counter: 1 });
    const row = await sql.mustRow(table, r.setId);
    assert.equal(row.sess_id, storedKey(r.setId), 'the id is stored as its digest');
    assert.equal(row.sess_counter, 1);
    const data = JSON.parse(row.sess_data ?? 'null') as Record<string, unknown>;
    assert.equal(data.counter, 1);
    assert.equal(data.__sessionPgsql, undefined, 'what the store carries is never stored');
    const cookie = data.cookie as Record<string, unknown>;
    assert.equal(cookie.originalMaxAge, MAX_AGE_SECONDS * 1000);
    assert.equal(cookie.expires, undefined, 'the row holds the expiry');
    assert.equal(cookie.originalExpires, undefined);
    assertNear(row.sess_expire - (await sql.now()), MAX_AGE_SECONDS, 3, 'row expiry');
    assert.ok(r.cookieExpires);
    assertNear(r.cookieExpires.getTime() / 1000, row.sess_expire, 3, 'cookie and row agree');
  });

  it('reads and changes it: the same session across requests, every change stored', async () => {
    const client = app.client();
    const first = await client.post('/set?key=basket&value=apples');
    const id = first.body.id;
    const read = await client.get('/session');
    assert.equal(read.body.id, id);
    assert.deepEqual(read.body.data, { basket: 'apples' });
    const changed = await client.post('/increment');
    assert.deepEqual(changed.body.data, { basket: 'apples', counter: 1 });
    await client.post('/increment');
    const data = await sql.data(table, id);
    assert.equal(data.counter, 2);
    assert.equal(data.basket, 'apples');
    // the cookie as restored: its expiry from the row
    const cookie = await client.get<{ expires: string; originalMaxAge: number }>('/cookie');
    assert.equal(cookie.body.originalMaxAge, MAX_AGE_SECONDS * 1000);
  });

  it('destroys it: the row is gone and the old cookie starts a new, empty session', async () => {
    const client = app.client();
    const id = (await client.post('/increment')).body.id;
    assert.ok(await sql.row(table, id));
    const r = await client.post<{ ok: boolean }>('/logout');
    assert.equal(r.status, 200);
    assert.equal(await sql.row(table, id), undefined);
    client.useSessionId(id);
    const again = await client.get('/session');
    assert.notEqual(again.body.id, id);
    assert.deepEqual(again.body.data, {});
    assert.equal(await sql.row(table, id), undefined, 'the destroyed session does not come back');
  });

  it('regenerates it: a new id and row, the old row deleted, the data carried over', async () => {
    const client = app.client();
    await client.post('/increment');
    const old = (await client.post('/increment')).body.id;
    const r = await client.post('/regenerate');
    assert.equal(r.status, 200);
    assert.notEqual(r.body.id, old);
    assert.equal(r.setId, r.body.id, 'the cookie names the new session');
    assert.deepEqual(r.body.data, { counter: 2 });
    assert.equal(await sql.row(table, old), undefined, 'the old session is destroyed');
    assert.equal((await sql.data(table, r.body.id)).counter, 2);
    const next = await client.post('/increment');
    assert.equal(next.body.id, r.body.id);
    assert.deepEqual(next.body.data, { counter: 3 });
  });

  it('concurrent requests changing different keys: both changes kept (merged, not overwritten)', async () => {
    const client = app.client();
    const id = (await client.post('/increment')).body.id;
    const keys = ['a', 'b', 'c', 'd', 'e', 'f'];
    const replies = await Promise.all(
      keys.map((key) => client.post(`/set?key=${key}&value=${key}`)),
    );
    assert.deepEqual(
      replies.map((r) => r.status),
      keys.map(() => 200),
    );
    const data = await sql.data(table, id);
    for (const key of keys) assert.equal(data[key], key, `the change of ${key} is kept`);
    assert.equal(data.counter, 1);
  });

  it('a stored session that is not an object: an error, and the row is left as it is', async () => {
    const client = app.client();
    const id = (await client.post('/increment')).body.id;
    await sql.query(`UPDATE ${table} SET sess_data = '42' WHERE sess_id = $1`, [storedKey(id)]);
    const r = await client.get<{ code: string }>('/session');
    assert.equal(r.status, 500);
    assert.equal(r.body.code, 'SPG_INVALID_SESSION_DATA');
    assert.equal(r.setCookie, undefined, 'no new session replaces it');
    assert.equal((await sql.mustRow(table, id)).sess_data, '42');
    app.errors.length = 0;
  });

  it('expires by the database clock: an expired row is a new session, whatever the cookie says', async () => {
    const client = app.client();
    await client.post('/set?key=secret&value=kept');
    const id = client.sessionId;
    assert.ok(id);
    await expireInDatabase(sql.pool, table, storedKey(id), { secondsAgo: 5 });
    const r = await client.get('/session');
    assert.equal(r.status, 200);
    assert.notEqual(r.body.id, id, 'a new session');
    assert.deepEqual(r.body.data, {}, 'nothing of the expired one');
    assert.equal(r.setId, r.body.id);
  });

  it('a session that expires in the database while the cookie lives on is gone', async () => {
    const client = app.client();
    const id = (await client.post('/increment')).body.id;
    await sql.expireIn(table, id, 30); // still alive: 30 s left by the database's clock
    const alive = await client.get('/session');
    assert.equal(alive.body.id, id);
    assert.deepEqual(alive.body.data, { counter: 1 });
    await sql.expireIn(table, id, -1);
    const gone = await client.get('/session');
    assert.notEqual(gone.body.id, id);
    assert.deepEqual(app.errors, []);
  });
});

describe('keepExpired with @fastify/session', () => {
  const table = 'fastify_keep_expired';
  let app: FastifyTestApp;

  before(async () => {
    app = await startFastifyApp({
      store: { db: url, table, keepExpired: true },
      session: { cookie: { maxAge: MAX_AGE_SECONDS * 1000 } },
    });
  });
  after(() => app.close());

  it('an expired session starts empty under the same id, its metadata carried on', async () => {
    const client = app.client();
    const id = (await client.post('/increment')).body.id;
    await client.post('/field?value=plan%3Dpro');
    const before = await sql.mustRow(table, id);
    await expireInDatabase(sql.pool, table, storedKey(id), { secondsAgo: 5 });
    const r = await client.get('/session');
    assert.equal(r.body.id, id, 'the same id');
    assert.deepEqual(r.body.data, {}, 'no data');
    const row = await sql.mustRow(table, id);
    assert.equal(row.sess_created, before.sess_created, 'creation kept');
    assert.equal(row.sess_custom, 'plan=pro', 'custom field kept');
    assert.equal(row.sess_counter, before.sess_counter + 1, 'the counter carries on');
    assert.ok(row.sess_expire > (await sql.now()), 'alive again');
  });
});
