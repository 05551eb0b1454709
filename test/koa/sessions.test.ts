/**
 * Sessions through real HTTP with real Koa 3 + koa-session 7 and the koa PgsqlStore, on real
 * PostgreSQL: created, read, changed, destroyed, regenerated, and expired by the database's
 * clock; what the rows hold after each step (koa-session's `_maxAge` stored, its `_expire`
 * never).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { expireInDatabase, storedKey } from '../core/fixtures.js';
import { type KoaTestApp, startKoaApp } from '../helpers/koa-app.js';
import { sharedDatabaseUrl } from '../helpers/postgres.js';
import { assertNear, Sql } from '../helpers/session-sql.js';

const MAX_AGE_SECONDS = 3600;

const url = await sharedDatabaseUrl();
const sql = new Sql(url);
after(() => sql.close());

describe('sessions with koa-session', () => {
  const table = 'koa_sessions';
  let app: KoaTestApp;

  before(async () => {
    app = await startKoaApp({
      store: { db: url, table },
      session: { maxAge: MAX_AGE_SECONDS * 1000 },
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
    assert.deepEqual(data, { counter: 1, _maxAge: MAX_AGE_SECONDS * 1000 }, 'no _expire');
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
  });

  it('a cookie with a wrong signature is not believed: a new session', async () => {
    const client = app.client();
    const id = (await client.post('/increment')).body.id;
    client.useSessionId(id, 'not the secret');
    const r = await client.get('/session');
    assert.notEqual(r.body.id, id);
    assert.deepEqual(r.body.data, {});
    client.useSessionId(id);
    assert.deepEqual((await client.get('/session')).body.data, { counter: 1 }, 'signed right');
  });

  it('destroys it: the row is gone and the old cookie starts a new, empty session', async () => {
    const client = app.client();
    const id = (await client.post('/increment')).body.id;
    assert.ok(await sql.row(table, id));
    const r = await client.post<{ ok: boolean }>('/logout');
    assert.equal(r.status, 200);
    assert.equal(r.setId, undefined, 'the cookie is cleared');
    assert.match(r.setCookie ?? '', /^koa\.sess=;/, 'an empty cookie clears it');
    assert.equal(await sql.row(table, id), undefined);
    client.useSessionId(id);
    const again = await client.get('/session');
    assert.notEqual(again.body.id, id);
    assert.deepEqual(again.body.data, {});
    assert.equal(await sql.row(table, id), undefined, 'the destroyed session does not come back');
  });

  it('regenerates it: a new key and row, the old row deleted, the data carried over', async () => {
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
    const read = await client.get('/session');
    assert.equal(read.status, 200);
    assert.notEqual(read.body.id, id, 'a new session');
    assert.deepEqual(read.body.data, {}, 'nothing of the expired one');
    assert.equal(read.setCookie, undefined, 'an empty new session is not saved');
    const r = await client.post('/increment');
    assert.notEqual(r.setId, id, 'a new key, never the expired one');
    assert.deepEqual(r.body.data, { counter: 1 });
  });

  it("the row's expiry is the one that counts: koa-session's _expire follows it", async () => {
    const client = app.client();
    const id = (await client.post('/increment')).body.id;
    // 30 s left by the database's clock, though the cookie has an hour: still alive
    await sql.expireIn(table, id, 30);
    const alive = await client.get('/session');
    assert.equal(alive.body.id, id);
    assert.deepEqual(alive.body.data, { counter: 1 });
    // a row written by something else with an _expire long past: the row decides
    await sql.query(`UPDATE ${table} SET sess_data = $2 WHERE sess_id = $1`, [
      storedKey(id),
      JSON.stringify({ counter: 1, _expire: 1000, _maxAge: MAX_AGE_SECONDS * 1000 }),
    ]);
    assert.equal((await client.get('/session')).body.id, id, 'a stored _expire is ignored');
    await sql.expireIn(table, id, -1);
    const gone = await client.get('/session');
    assert.notEqual(gone.body.id, id);
    assert.deepEqual(app.errors, []);
  });
});

describe("a session's own lifetime (koa-session's _maxAge)", () => {
  const table = 'koa_lifetimes';
  const TTL = 900;
  let app: KoaTestApp;

  before(async () => {
    app = await startKoaApp({
      store: { db: url, table, ttl: TTL, shortCircuit: true },
      session: { maxAge: MAX_AGE_SECONDS * 1000 },
    });
  });
  after(() => app.close());

  it('ctx.session.maxAge = n: stored, the row and the cookie follow it, and it is kept', async () => {
    const client = app.client();
    const id = (await client.post('/increment')).body.id;
    const r = await client.post('/max-age?ms=120000');
    assert.equal(r.status, 200);
    const row = await sql.mustRow(table, id);
    assert.deepEqual(JSON.parse(row.sess_data ?? 'null'), { counter: 1, _maxAge: 120_000 });
    assertNear(row.sess_expire - (await sql.now()), 120, 3, 'row expiry');
    assert.ok(r.cookieExpires);
    assertNear(r.cookieExpires.getTime() / 1000, row.sess_expire, 3, 'cookie and row agree');
    const next = await client.post('/increment'); // read back: the session keeps its lifetime
    assert.ok(next.cookieExpires);
    assertNear(next.cookieExpires.getTime() / 1000 - (await sql.now()), 120, 3, 'cookie');
    assertNear((await sql.mustRow(table, id)).sess_expire - (await sql.now()), 120, 3, 'row');
  });

  it("maxAge 'session': a cookie without expiry, a row that lasts ttl", async () => {
    const client = app.client();
    const id = (await client.post('/increment')).body.id;
    const r = await client.post('/max-age?ms=session');
    assert.equal(r.cookieExpires, undefined, 'a browser-session cookie');
    const row = await sql.mustRow(table, id);
    assert.deepEqual(JSON.parse(row.sess_data ?? 'null'), { counter: 1, _session: true });
    assertNear(row.sess_expire - (await sql.now()), TTL, 3, 'row expiry: ttl');
    const next = await client.post('/increment');
    assert.equal(next.body.id, id);
    assert.deepEqual(next.body.data, { counter: 2 });
    assert.equal(next.cookieExpires, undefined, 'still a browser-session cookie');
    assert.deepEqual(app.errors, []);
  });
});

describe('keepExpired with koa-session', () => {
  const table = 'koa_keep_expired';
  let app: KoaTestApp;

  before(async () => {
    app = await startKoaApp({
      store: { db: url, table, keepExpired: true },
      session: { maxAge: MAX_AGE_SECONDS * 1000 },
    });
  });
  after(() => app.close());

  it('an expired session starts empty under the same key, its metadata carried on', async () => {
    const client = app.client();
    const id = (await client.post('/increment')).body.id;
    await client.post('/field?value=plan%3Dpro');
    const before = await sql.mustRow(table, id);
    await expireInDatabase(sql.pool, table, storedKey(id), { secondsAgo: 5 });
    const r = await client.post('/set?key=fresh&value=yes');
    assert.equal(r.body.id, id, 'the same key');
    assert.deepEqual(r.body.data, { fresh: 'yes' }, 'nothing of the expired data');
    const row = await sql.mustRow(table, id);
    assert.equal(row.sess_created, before.sess_created, 'creation kept');
    assert.equal(row.sess_custom, 'plan=pro', 'custom field kept');
    assert.equal(row.sess_counter, before.sess_counter + 1, 'the counter carries on');
    assert.ok(row.sess_expire > (await sql.now()), 'alive again');
    assert.deepEqual(JSON.parse(row.sess_data ?? 'null'), {
      fresh: 'yes',
      _maxAge: MAX_AGE_SECONDS * 1000,
    });
  });
});
