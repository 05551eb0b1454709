/**
 * The cookie's expiry is the session's expiry, by the database's clock: cookie.maxAge (also
 * one set per session), the `ttl` fallback for a browser-session cookie, the stored expiry
 * handed back in the cookie, and expired sessions never returned, before or after GC.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { assertNear, type Client, Sql, startApp, type TestApp } from '../helpers/express-app.js';
import { sharedDatabaseUrl } from '../helpers/postgres.js';

const url = await sharedDatabaseUrl();
const sql = new Sql(url);
after(() => sql.close());

interface CookieReply {
  expires: string | null;
  maxAge: number | null;
  originalMaxAge: number | null;
}

/** Seconds from the database's now until the session's stored expiry. */
async function remainingSeconds(table: string, id: string): Promise<number> {
  return (await sql.mustRow(table, id)).sess_expire - (await sql.now());
}

describe('a cookie with maxAge', () => {
  const table = 'expiry_max_age';
  let app: TestApp;
  before(async () => {
    app = await startApp({
      store: { db: url, table, ttl: 900 },
      session: { cookie: { maxAge: 120_000 } },
    });
  });
  after(() => app.close());

  it('stores now + maxAge as the expiry, the same instant as the cookie Expires', async () => {
    const client = app.client();
    const r = await client.post('/increment');
    assert.ok(r.setId && r.cookieExpires);
    assertNear(await remainingSeconds(table, r.setId), 120, 2, 'stored lifetime');
    const row = await sql.mustRow(table, r.setId);
    assertNear(row.sess_expire, r.cookieExpires.getTime() / 1000, 2, 'cookie Expires');
  });

  it('a maxAge set for one session ("remember me") is that session expiry, also when touched', async () => {
    const client = app.client();
    const r = await client.post('/max-age?ms=3600000');
    assert.ok(r.setId && r.cookieExpires);
    assertNear(await remainingSeconds(table, r.setId), 3600, 2, 'stored lifetime');
    await sql.shiftExpiry(table, r.setId, -600);
    const read = await client.get('/session'); // read-only: express-session calls touch
    assert.equal(read.body.id, r.setId);
    assertNear(await remainingSeconds(table, r.setId), 3600, 2, 'lifetime after touch');
  });

  it('a session read back carries the stored expiry in its cookie', async () => {
    const client = app.client();
    const r = await client.post('/increment');
    assert.ok(r.setId);
    await sql.expireIn(table, r.setId, 50);
    const stored = (await sql.mustRow(table, r.setId)).sess_expire;
    const cookie = await client.get<CookieReply>('/cookie');
    assert.equal(cookie.body.originalMaxAge, 120_000);
    assert.ok(cookie.body.maxAge !== null && cookie.body.expires !== null);
    assertNear(cookie.body.maxAge / 1000, 50, 2, 'cookie maxAge (s) of the read session');
    assertNear(new Date(cookie.body.expires).getTime() / 1000, stored, 2, 'cookie expires');
  });
});

describe('a browser-session cookie (no maxAge)', () => {
  const table = 'expiry_ttl';
  let app: TestApp;
  before(async () => {
    app = await startApp({ store: { db: url, table, ttl: 300 }, session: { rolling: true } });
  });
  after(() => app.close());

  it('lasts ttl seconds in the database, and the cookie has no Expires', async () => {
    const client = app.client();
    const r = await client.post('/increment');
    assert.ok(r.setId);
    assert.equal(r.cookieExpires, undefined);
    assertNear(await remainingSeconds(table, r.setId), 300, 2, 'stored lifetime');
    await sql.shiftExpiry(table, r.setId, -100);
    const read = await client.get('/session');
    assert.equal(read.body.id, r.setId);
    assert.equal(read.cookieExpires, undefined);
    assertNear(await remainingSeconds(table, r.setId), 300, 2, 'lifetime after touch');
  });
});

describe('an expired session', () => {
  const table = 'expiry_expired';
  let app: TestApp;
  let client: Client;
  let oldId: string;
  let oldData: string | null;

  before(async () => {
    app = await startApp({
      store: { db: url, table, gcInterval: 0 },
      session: { cookie: { maxAge: 600_000 } },
    });
    client = app.client();
    await client.post('/increment');
    const r = await client.post('/increment');
    assert.deepEqual(r.body.data, { counter: 2 });
    oldId = r.body.id;
    await sql.expireIn(table, oldId, -5);
    oldData = (await sql.mustRow(table, oldId)).sess_data;
  });
  after(() => app.close());

  it('is not returned although its row is still there (no GC ran)', async () => {
    const r = await client.get('/session');
    assert.notEqual(r.body.id, oldId);
    assert.deepEqual(r.body.data, {});
    assert.equal(r.setCookie, undefined, 'nothing to save: saveUninitialized is false');
    const row = await sql.mustRow(table, oldId);
    assert.equal(row.sess_data, oldData, 'the expired row is untouched');
    assert.equal(await sql.count(table), 1);
  });

  it('a modifying request with its cookie starts a new session', async () => {
    const r = await client.post('/increment');
    assert.notEqual(r.body.id, oldId);
    assert.deepEqual(r.body.data, { counter: 1 });
    assert.equal(r.setId, r.body.id);
    assert.equal((await sql.data(table, r.body.id)).counter, 1);
    assert.equal((await sql.mustRow(table, oldId)).sess_data, oldData);
    client.useSessionId(oldId); // back to the expired session's cookie
  });

  it('is not returned after GC either, which deleted it', async () => {
    assert.equal(await app.store.core.gc(), 1);
    assert.equal(await sql.row(table, oldId), undefined);
    const r = await client.get('/session');
    assert.notEqual(r.body.id, oldId);
    assert.deepEqual(r.body.data, {});
    assert.deepEqual(app.errors, []);
  });
});

describe('an expired session under keepExpired', () => {
  const table = 'expiry_keep_expired';
  let app: TestApp;
  before(async () => {
    app = await startApp({
      store: { db: url, table, keepExpired: true, gcInterval: 0 },
      session: { cookie: { maxAge: 600_000 } },
    });
  });
  after(() => app.close());

  it('loses its data but keeps its row metadata, and the cookie maxAge still sets the expiry', async () => {
    const client = app.client();
    await client.post('/increment');
    const r = await client.post('/increment');
    const id = r.body.id;
    await sql.expireIn(table, id, -5);
    const stored = await sql.mustRow(table, id);
    const read = await client.get('/session');
    assert.deepEqual(read.body.data, {}, 'the expired data is not returned');
    const write = await client.post('/increment');
    assert.deepEqual(write.body.data, { counter: 1 });
    const row = await sql.mustRow(table, id);
    assert.equal(row.sess_created, stored.sess_created, 'same row: created time kept');
    assert.ok(row.sess_counter > stored.sess_counter, 'the access counter continues');
    assert.equal((await sql.data(table, id)).counter, 1);
    assertNear(row.sess_expire - (await sql.now()), 600, 2, 'lifetime from cookie maxAge');
  });
});
