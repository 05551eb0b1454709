/**
 * Sessions under every framework, through real HTTP on real PostgreSQL: created, read,
 * changed, destroyed, regenerated, merged, and expired by the database's clock; what the
 * rows hold after each step. Each framework's own behaviour (its cookie, what its session
 * library stores) is in test/<framework>/sessions.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { expireInDatabase, storedKey } from '../core/fixtures.js';
import { sharedDatabaseUrl } from '../helpers/postgres.js';
import { assertNear, Sql } from '../helpers/session-sql.js';
import { expressDriver } from './drivers/express-driver.js';
import { fastifyDriver } from './drivers/fastify-driver.js';
import type { FrameworkApp, FrameworkDriver } from './drivers/framework-driver.js';
import { honoDriver } from './drivers/hono-driver.js';
import { koaDriver } from './drivers/koa-driver.js';

const LIFETIME = 3600;

const url = await sharedDatabaseUrl();
const sql = new Sql(url);
after(() => sql.close());

/** The app's fields of the session as stored, after the framework's checks of the rest. */
const storedFields = async (framework: FrameworkDriver, table: string, id: string) =>
  framework.storedFields(await sql.data(table, id), LIFETIME);

function sessions(framework: FrameworkDriver): void {
  const table = `${framework.name}_sessions`;
  let app: FrameworkApp;
  const stored = (id: string) => storedFields(framework, table, id);

  before(async () => {
    app = await framework.start(
      { db: url, table },
      { lifetime: LIFETIME, saveUninitialized: false },
    );
  });
  after(() => app.close());

  it('creates a session: a signed cookie and a row expiring with the cookie', async () => {
    const r = await app.client().post('/increment');
    assert.equal(r.status, 200);
    assert.ok(r.setId, 'a session cookie');
    assert.equal(r.body.id, r.setId);
    assert.deepEqual(r.body.data, { counter: 1 });
    const row = await sql.mustRow(table, r.setId);
    assert.equal(row.sess_id, storedKey(r.setId), 'the id is stored as its digest');
    assert.equal(row.sess_counter, 1);
    assert.deepEqual(await stored(r.setId), { counter: 1 });
    assertNear(row.sess_expire - (await sql.now()), LIFETIME, 3, 'row expiry');
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
    const changed = await client.post('/increment');
    assert.deepEqual(changed.body.data, { basket: 'apples', counter: 1 });
    await client.post('/increment');
    assert.deepEqual(await stored(id), { basket: 'apples', counter: 2 });
  });

  it('destroys it: the row is gone and the old cookie starts a new, empty session', async () => {
    const client = app.client();
    const id = (await client.post('/increment')).body.id;
    assert.ok(await sql.row(table, id));
    const r = await client.post<{ ok: boolean }>('/logout');
    assert.equal(r.status, 200);
    if (framework.clearedCookie) {
      assert.equal(r.setId, undefined, 'the cookie is cleared');
      assert.match(r.setCookie ?? '', framework.clearedCookie, 'the cookie is cleared');
    }
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
    assert.deepEqual(await stored(r.body.id), { counter: 2 });
    const next = await client.post('/increment');
    assert.equal(next.body.id, r.body.id);
    assert.deepEqual(next.body.data, { counter: 3 });
  });

  it('concurrent requests changing different keys: every change kept (merged, not overwritten)', async () => {
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
    assert.deepEqual(await stored(id), {
      counter: 1,
      ...Object.fromEntries(keys.map((k) => [k, k])),
    });
  });

  it('a stored session that is not an object: an error, and the row is left as it is', async () => {
    const client = app.client();
    const id = (await client.post('/increment')).body.id;
    await sql.query(`UPDATE ${table} SET sess_data = '42' WHERE sess_id = $1`, [storedKey(id)]);
    const r = await client.get('/session');
    assert.equal(r.status, 500);
    assert.equal(app.errorCode(r), 'SPG_INVALID_SESSION_DATA');
    assert.equal(r.setCookie, undefined, 'no new session replaces it');
    assert.equal((await sql.mustRow(table, id)).sess_data, '42');
    app.errors.length = 0;
  });

  it('expires by the database clock: an expired row is a new session, whatever the cookie says', async () => {
    const client = app.client();
    const id = (await client.post('/set?key=secret&value=kept')).body.id;
    await expireInDatabase(sql.pool, table, storedKey(id), { secondsAgo: 5 });
    const read = await client.get('/session');
    assert.equal(read.status, 200);
    assert.notEqual(read.body.id, id, 'a new session');
    assert.deepEqual(read.body.data, {}, 'nothing of the expired one');
    assert.equal(read.setId, undefined, 'an empty new session is not saved'); // (a cleared cookie may be sent)
    const r = await client.post('/increment');
    assert.notEqual(r.setId, id, 'a new id, never the expired one');
    assert.equal(r.setId, r.body.id);
    assert.deepEqual(r.body.data, { counter: 1 });
    assert.deepEqual(app.errors, []);
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
}

function keepExpired(framework: FrameworkDriver): void {
  const table = `${framework.name}_keep_expired`;
  let app: FrameworkApp;

  before(async () => {
    app = await framework.start({ db: url, table, keepExpired: true }, { lifetime: LIFETIME });
  });
  after(() => app.close());

  it('an expired session starts empty under the same id, its metadata carried on', async () => {
    const client = app.client();
    const id = (await client.post('/increment')).body.id;
    await client.post('/field?value=plan%3Dpro');
    const before = await sql.mustRow(table, id);
    await expireInDatabase(sql.pool, table, storedKey(id), { secondsAgo: 5 });
    const r = await client.post('/set?key=fresh&value=yes');
    assert.equal(r.body.id, id, 'the same id');
    assert.deepEqual(r.body.data, { fresh: 'yes' }, 'nothing of the expired data');
    const row = await sql.mustRow(table, id);
    assert.equal(row.sess_created, before.sess_created, 'creation kept');
    assert.equal(row.sess_custom, 'plan=pro', 'custom field kept');
    assert.equal(row.sess_counter, before.sess_counter + 1, 'the counter carries on');
    assert.ok(row.sess_expire > (await sql.now()), 'alive again');
    assert.deepEqual(await storedFields(framework, table, id), { fresh: 'yes' });
  });
}

for (const framework of [expressDriver, fastifyDriver, koaDriver, honoDriver]) {
  describe(framework.name, () => {
    describe('sessions', () => sessions(framework));
    describe('keepExpired', () => keepExpired(framework));
  });
}
