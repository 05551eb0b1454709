/**
 * What is Koa's own in sessions with koa-session 7 and the koa PgsqlStore, on real
 * PostgreSQL (what every framework does, and koa-session's `_maxAge` stored and `_expire`
 * never, are in test/frameworks/sessions.test.ts): a wrongly signed cookie, a stored
 * `_expire` that the row overrides, a session's own lifetime.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { storedKey } from '../core/fixtures.js';
import { type KoaTestApp, startKoaApp } from '../helpers/koa-app.js';
import { sharedDatabaseUrl } from '../helpers/postgres.js';
import { assertNear, Sql } from '../helpers/session-sql.js';

const MAX_AGE_SECONDS = 3600;

const url = await sharedDatabaseUrl();
const sql = new Sql(url);
after(() => sql.close());

describe('sessions with koa-session', () => {
  const table = 'koa_own_sessions';
  let app: KoaTestApp;

  before(async () => {
    app = await startKoaApp({
      store: { db: url, table },
      session: { maxAge: MAX_AGE_SECONDS * 1000 },
    });
  });
  after(() => app.close());

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
