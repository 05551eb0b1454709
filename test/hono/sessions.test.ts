/**
 * Sessions through real HTTP with a real Hono app (served by @hono/node-server) and
 * session-pgsql's sessionMiddleware, on real PostgreSQL: created, read, changed,
 * destroyed, regenerated, and expired by the database's clock; the cookie's attributes
 * and signature (a tampered one, rotated secrets), hostile ids; what the rows hold.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { expireInDatabase, storedKey } from '../core/fixtures.js';
import { HONO_SECRET, type HonoTestApp, honoSignature, startHonoApp } from '../helpers/hono-app.js';
import { sharedDatabaseUrl } from '../helpers/postgres.js';
import { assertNear, Sql, statementCounts } from '../helpers/session-sql.js';

const TTL = 3600;

const url = await sharedDatabaseUrl();
const sql = new Sql(url);
after(() => sql.close());

describe('sessions with the Hono middleware', () => {
  const table = 'hono_sessions';
  let app: HonoTestApp;

  before(async () => {
    app = await startHonoApp({ store: { db: url, table }, session: { ttl: TTL } });
  });
  after(() => app.close());

  it('creates a session: a signed cookie with secure attributes, and a row expiring with it', async () => {
    const client = app.client();
    const r = await client.post('/increment');
    assert.equal(r.status, 200);
    assert.ok(r.setId, 'a session cookie');
    assert.equal(r.body.id, r.setId);
    assert.deepEqual(r.body.data, { counter: 1 });
    assert.match(r.body.id, /^[A-Za-z0-9_-]{43}$/, "the store's ids: 256 bits in base64url");
    const attributes = (r.setCookie ?? '').split(/;\s*/).slice(1);
    for (const expected of ['Max-Age=3600', 'Path=/', 'HttpOnly', 'Secure', 'SameSite=Lax']) {
      assert.ok(attributes.includes(expected), `${expected} in ${attributes}`);
    }
    const row = await sql.mustRow(table, r.setId);
    assert.equal(row.sess_id, storedKey(r.setId), 'the id is stored as its digest');
    assert.equal(row.sess_counter, 1);
    assert.equal(row.sess_data, '{"counter":1}', 'the fields and nothing else');
    assertNear(row.sess_expire - (await sql.now()), TTL, 3, 'row expiry');
    assert.ok(r.cookieExpires);
    assertNear(r.cookieExpires.getTime() / 1000, row.sess_expire, 3, 'cookie and row agree');
  });

  it('a visitor whose session stays empty gets no row and no cookie (saveUninitialized: false)', async () => {
    const before = await sql.count(table);
    const r = await app.client().get('/session');
    assert.equal(r.status, 200);
    assert.deepEqual(r.body.data, {});
    assert.equal(r.setCookie, undefined);
    assert.equal(await sql.count(table), before);
  });

  it('reads and changes it: the same session across requests, every change stored', async () => {
    const client = app.client();
    const id = (await client.post('/set?key=basket&value=apples')).body.id;
    const read = await client.get('/session');
    assert.equal(read.body.id, id);
    assert.deepEqual(read.body.data, { basket: 'apples' });
    assert.equal(read.setCookie, undefined, 'unchanged, not rolling: no cookie sent again');
    const changed = await client.post('/increment');
    assert.deepEqual(changed.body.data, { basket: 'apples', counter: 1 });
    assert.equal(changed.setId, id, 'a change extends the row, and the cookie with it');
    await client.post('/increment');
    assert.deepEqual(await sql.data(table, id), { basket: 'apples', counter: 2 });
  });

  it('destroys it: the row is gone, the cookie cleared, and the old cookie starts afresh', async () => {
    const client = app.client();
    const id = (await client.post('/increment')).body.id;
    const r = await client.post<{ ok: boolean }>('/logout');
    assert.equal(r.status, 200);
    assert.match(r.setCookie ?? '', /^sid=;.*Max-Age=0/, 'the cookie is cleared');
    assert.equal(await sql.row(table, id), undefined);
    client.useSessionId(id);
    const again = await client.get('/session');
    assert.notEqual(again.body.id, id);
    assert.deepEqual(again.body.data, {});
    assert.equal(await sql.row(table, id), undefined, 'the destroyed session does not come back');
  });

  it('regenerates it: a new id and row, the old row deleted, the data kept (keepData)', async () => {
    const client = app.client();
    await client.post('/increment');
    const old = (await client.post('/increment')).body.id;
    const r = await client.post('/regenerate');
    assert.equal(r.status, 200);
    assert.notEqual(r.body.id, old);
    assert.equal(r.setId, r.body.id, 'the cookie names the new session');
    assert.deepEqual(r.body.data, { counter: 2 });
    assert.equal(await sql.row(table, old), undefined, 'the old session is destroyed');
    assert.deepEqual(await sql.data(table, r.body.id), { counter: 2 });
    const next = await client.post('/increment');
    assert.equal(next.body.id, r.body.id);
    assert.deepEqual(next.body.data, { counter: 3 });
  });

  it('concurrent requests changing different keys: both changes kept (merged)', async () => {
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

  it('a field named __proto__ is a field like any other', async () => {
    const client = app.client();
    const id = (await client.post('/set?key=__proto__&value=x')).body.id;
    assert.equal((await sql.mustRow(table, id)).sess_data, '{"__proto__":"x"}');
    const r = await client.get('/session');
    assert.equal(r.body.id, id);
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
    const id = (await client.post('/set?key=secret&value=kept')).body.id;
    await sql.expireIn(table, id, 30); // still alive: 30 s left by the database's clock
    assert.deepEqual((await client.get('/session')).body, { id, data: { secret: 'kept' } });
    await expireInDatabase(sql.pool, table, storedKey(id), { secondsAgo: 5 });
    const r = await client.post('/increment');
    assert.notEqual(r.body.id, id, 'a new session');
    assert.deepEqual(r.body.data, { counter: 1 }, 'nothing of the expired one');
    assert.equal(r.setId, r.body.id);
    assert.deepEqual(app.errors, []);
  });

  it('a tampered signature is no session: a new one, the stored one untouched', async () => {
    const client = app.client();
    const id = (await client.post('/increment')).body.id;
    const before = await sql.mustRow(table, id);
    const reads = (await statementCounts({ core: app.store })).read ?? 0;
    for (const secret of ['another-secret-of-32-characters-or-more', `${HONO_SECRET}x`]) {
      client.useSessionId(id, secret);
      const r = await client.get('/session');
      assert.equal(r.status, 200);
      assert.notEqual(r.body.id, id, 'not that session');
      assert.deepEqual(r.body.data, {});
    }
    // an id changed under its signature (its last character, to another one)
    const other = `${id.slice(0, -1)}${id.endsWith('A') ? 'B' : 'A'}`;
    const forged = await fetch(`${app.url}/session`, {
      headers: {
        cookie: `sid=${encodeURIComponent(honoSignature(id, HONO_SECRET).replace(id, other))}`,
      },
    });
    assert.notEqual(((await forged.json()) as { id: string }).id, id);
    assert.equal((await statementCounts({ core: app.store })).read ?? 0, reads, 'nothing read');
    assert.deepEqual(await sql.mustRow(table, id), before);
  });

  it('hostile ids, correctly signed: no SQL runs for them, each gets a new session', async () => {
    const hostile = [
      `abc'def"ghi'jklmnopqrstuvwxyz012345`,
      'abcdefgh\0ijklmnop\0qrstuvwxyz012345',
      'a'.repeat(10_240),
      'séssiön-идентификатор-会话-🔑-0123456789',
      "x'; DROP TABLE hono_sessions; --",
      "AAAAAAAAAAAAAAAA' OR '1'='1",
      'abcdefghijklmnop\r\nSet-Cookie: evil=1',
    ];
    const rows = await sql.count(table);
    const { count: _before, ...before } = await statementCounts({ core: app.store });
    for (const id of hostile) {
      const client = app.client();
      client.useSessionId(id);
      const r = await client.get('/session');
      assert.equal(r.status, 200, JSON.stringify(id.slice(0, 40)));
      assert.notEqual(r.body.id, id);
      assert.match(r.body.id, /^[A-Za-z0-9_-]{43}$/);
      assert.deepEqual(r.body.data, {});
    }
    const { count: _after, ...after } = await statementCounts({ core: app.store });
    assert.deepEqual(after, before, 'no statement ran');
    assert.equal(await sql.count(table), rows);
    assert.deepEqual(app.errors, []);
  });
});

describe('saveUninitialized: true, and a handler that throws', () => {
  const table = 'hono_save_uninitialized';
  let app: HonoTestApp;

  before(async () => {
    app = await startHonoApp({ store: { db: url, table }, session: { saveUninitialized: true } });
  });
  after(() => app.close());

  it('a new visitor is stored at once, with its cookie', async () => {
    const r = await app.client().get('/session');
    assert.ok(r.setId);
    assert.equal((await sql.mustRow(table, r.setId)).sess_data, '{}');
  });

  it("the session is stored with the handler's error answer too, as express-session does", async () => {
    const client = app.client();
    const id = (await client.post('/increment')).body.id;
    const r = await client.post<{ message: string }>('/fail');
    assert.equal(r.status, 500);
    assert.equal(r.body.message, 'the handler failed');
    assert.deepEqual(await sql.data(table, id), { counter: 1, attempted: true });
    app.errors.length = 0;
  });
});

describe('secret rotation', () => {
  const table = 'hono_rotation';
  const OLD = 'the-old-secret-of-32-characters-or-more';
  let app: HonoTestApp;

  before(async () => {
    app = await startHonoApp({
      store: { db: url, table },
      session: { secret: [HONO_SECRET, OLD], ttl: TTL },
    });
  });
  after(() => app.close());

  it('a cookie signed with an old secret is accepted, and signed anew with the first', async () => {
    const client = app.client();
    const id = (await client.post('/increment')).body.id;
    client.useSessionId(id, OLD);
    const r = await client.get('/session');
    assert.deepEqual(r.body, { id, data: { counter: 1 } });
    assert.equal(r.setId, id, 'the cookie is sent again');
    assert.ok(r.setCookie?.includes(encodeURIComponent(honoSignature(id, HONO_SECRET))));
    const again = await client.get('/session');
    assert.equal(again.setCookie, undefined, 'signed with the first secret: nothing to do');
  });
});

describe('keepExpired with the Hono middleware', () => {
  const table = 'hono_keep_expired';
  let app: HonoTestApp;

  before(async () => {
    app = await startHonoApp({ store: { db: url, table, keepExpired: true } });
  });
  after(() => app.close());

  it('an expired session starts empty under the same id, its metadata carried on', async () => {
    const client = app.client();
    const id = (await client.post('/increment')).body.id;
    await client.post('/field?value=plan%3Dpro');
    const before = await sql.mustRow(table, id);
    await expireInDatabase(sql.pool, table, storedKey(id), { secondsAgo: 5 });
    const r = await client.post('/increment');
    assert.equal(r.body.id, id, 'the same id');
    assert.deepEqual(r.body.data, { counter: 1 }, 'no data of before');
    const row = await sql.mustRow(table, id);
    assert.equal(row.sess_created, before.sess_created, 'creation kept');
    assert.equal(row.sess_custom, 'plan=pro', 'custom field kept');
    assert.equal(row.sess_counter, before.sess_counter + 1, 'the counter carries on');
    assert.ok(row.sess_expire > (await sql.now()), 'alive again');
  });
});
