/**
 * What is Hono's own in sessions with session-pgsql's sessionMiddleware (served by
 * @hono/node-server), on real PostgreSQL (what every framework does is in
 * test/frameworks/sessions.test.ts): the cookie's attributes, when it is sent again, its
 * signature (a tampered one, rotated secrets), hostile ids, saveUninitialized.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HONO_SECRET, type HonoTestApp, honoSignature, startHonoApp } from '../helpers/hono-app.js';
import { sharedDatabaseUrl } from '../helpers/postgres.js';
import { Sql, statementCounts } from '../helpers/session-sql.js';

const TTL = 3600;

const url = await sharedDatabaseUrl();
const sql = new Sql(url);
after(() => sql.close());

describe('sessions with the Hono middleware', () => {
  const table = 'hono_own_sessions';
  let app: HonoTestApp;

  before(async () => {
    app = await startHonoApp({ store: { db: url, table }, session: { ttl: TTL } });
  });
  after(() => app.close());

  it("a new session's cookie: secure attributes, and an id of the store's", async () => {
    const r = await app.client().post('/increment');
    assert.equal(r.body.id, r.setId);
    assert.match(r.body.id, /^[A-Za-z0-9_-]{43}$/, "the store's ids: 256 bits in base64url");
    const attributes = (r.setCookie ?? '').split(/;\s*/).slice(1);
    for (const expected of ['Max-Age=3600', 'Path=/', 'HttpOnly', 'Secure', 'SameSite=Lax']) {
      assert.ok(attributes.includes(expected), `${expected} in ${attributes}`);
    }
  });

  it('the cookie is sent again with a change only (not rolling)', async () => {
    const client = app.client();
    const id = (await client.post('/set?key=basket&value=apples')).body.id;
    const read = await client.get('/session');
    assert.equal(read.body.id, id);
    assert.equal(read.setCookie, undefined, 'unchanged, not rolling: no cookie sent again');
    const changed = await client.post('/increment');
    assert.equal(changed.setId, id, 'a change extends the row, and the cookie with it');
  });

  it('a field named __proto__ is a field like any other', async () => {
    const client = app.client();
    const id = (await client.post('/set?key=__proto__&value=x')).body.id;
    assert.equal((await sql.mustRow(table, id)).sess_data, '{"__proto__":"x"}');
    const r = await client.get('/session');
    assert.equal(r.body.id, id);
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
