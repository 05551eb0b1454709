/**
 * session_pgsql's metadata through Hono: the helpers taking Hono's context (sessionInfo,
 * getField, setField, addError, getError), what they write in the row, the client address
 * (@hono/node-server's getConnInfo, X-Forwarded-For only with trustProxy, or a
 * getConnInfo of your own), SPG_NO_SESSION where there is no session, and the options
 * refused when the middleware is made.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Hono } from 'hono';
import { PgsqlStore } from '../../src/adapters/express.js';
import {
  getField,
  type SessionEnv,
  type SessionInfo,
  sessionInfo,
  sessionMiddleware,
} from '../../src/adapters/hono.js';
import { SessionPgsql } from '../../src/index.js';
import { HONO_SECRET, type HonoTestApp, startHonoApp } from '../helpers/hono-app.js';
import { sharedDatabaseUrl } from '../helpers/postgres.js';
import { Sql } from '../helpers/session-sql.js';

type Info = Omit<SessionInfo, 'created' | 'modified' | 'expires'> & {
  created: string | null;
  modified: string | null;
  expires: string | null;
};
interface Counters {
  error: number;
  warning: number;
  notice: number;
  message?: string | null;
}

const url = await sharedDatabaseUrl();
const sql = new Sql(url);
after(() => sql.close());

const FORWARDED = { 'x-forwarded-for': '203.0.113.7, 10.0.0.1' };

describe('metadata helpers with the Hono middleware', () => {
  const table = 'hono_metadata';
  let app: HonoTestApp;

  before(async () => {
    app = await startHonoApp({ store: { db: url, table, shortCircuit: true } });
  });
  after(() => app.close());

  it("sessionInfo on a new session's first request: nothing stored yet, nothing stored after", async () => {
    const client = app.client();
    const r = await client.get<Info>('/info');
    assert.equal(r.status, 200);
    assert.match(r.body.id, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(r.body.accesses, 0);
    assert.equal(r.body.created, null);
    assert.equal(r.body.createdAddress, null);
    assert.equal(r.body.server.index, 0);
    assert.equal(r.setCookie, undefined, 'reading metadata is no change');
  });

  it('sessionInfo shows the row: accesses, times, addresses', async () => {
    const client = app.client();
    await client.post('/increment');
    await client.post('/increment');
    const r = await client.get<Info>('/info');
    const row = await sql.mustRow(table, r.body.id);
    assert.equal(r.body.accesses, 2);
    assert.equal(r.body.accesses, row.sess_counter);
    assert.equal(r.body.createdAddress, '127.0.0.1');
    assert.equal(r.body.modifiedAddress, '127.0.0.1');
    assert.equal(row.sess_addr_created, '127.0.0.1');
    assert.equal(new Date(r.body.expires ?? 0).getTime() / 1000, row.sess_expire);
  });

  it('setField and getField: the custom field is written and read back', async () => {
    const client = app.client();
    await client.post('/increment');
    const id = client.sessionId ?? '';
    const before = await sql.mustRow(table, id);
    const set = await client.post<{ field: string | null }>('/field?value=plan%3Dpro');
    assert.deepEqual(set.body, { field: 'plan=pro' });
    const row = await sql.mustRow(table, id);
    assert.equal(row.sess_custom, 'plan=pro');
    assert.equal(row.sess_data, before.sess_data, 'a metadata change alone is written');
    const got = await client.get<{ field: string | null }>('/field');
    assert.deepEqual(got.body, { field: 'plan=pro' });
    await client.post('/field'); // no value: null clears it
    assert.equal((await sql.mustRow(table, id)).sess_custom, null);
  });

  it('addError and getError: counters and the last message, written in SQL', async () => {
    const client = app.client();
    await client.post('/increment');
    await client.post('/error?level=warning&message=payment%20retried');
    const r = await client.post<Counters>('/error?level=error');
    assert.deepEqual(r.body, { error: 1, warning: 1, notice: 0, message: 'payment retried' });
    const row = await sql.mustRow(table, client.sessionId ?? '');
    assert.deepEqual([row.sess_error, row.sess_warning, row.sess_notice], [1, 1, 0]);
    assert.equal(row.sess_err_message, 'payment retried');
    const plain = await client.get<Counters>('/error');
    assert.deepEqual(plain.body, { error: 1, warning: 1, notice: 0 });
    const bad = await client.post<{ code: string }>('/error?level=fatal');
    assert.equal(bad.status, 500);
    assert.equal(bad.body.code, 'SPG_INVALID_ERROR_LEVEL');
    app.errors.length = 0;
  });

  it('addError on a new, empty session stores it, with its cookie', async () => {
    const client = app.client();
    const r = await client.post('/error?level=notice&message=first%20visit');
    assert.equal(r.status, 200);
    assert.ok(r.setId, 'the session is saved, with a cookie');
    const row = await sql.mustRow(table, r.setId);
    assert.equal(row.sess_notice, 1);
    assert.equal(row.sess_err_message, 'first visit');
    assert.equal(row.sess_data, '{}');
  });

  it('the helpers throw SPG_NO_SESSION without the middleware, or after destroy()', async () => {
    const bare = new Hono();
    bare.get('/info', (c) => c.json(sessionInfo(c)));
    bare.onError((error, c) => c.json({ code: (error as { code?: string }).code }, 500));
    const r = await bare.request('/info');
    assert.equal(r.status, 500);
    assert.deepEqual(await r.json(), { code: 'SPG_NO_SESSION' });

    // chained: the middleware's Variables type c.get('session')
    const destroying = new Hono()
      .use(sessionMiddleware({ store: app.store, secret: HONO_SECRET }))
      .get('/', async (c) => {
        await c.get('session').destroy();
        assert.throws(() => getField(c), { code: 'SPG_NO_SESSION' });
        assert.throws(() => c.get('session').set('a', 1), { code: 'SPG_NO_SESSION' });
        return c.text('ok');
      });
    assert.equal((await destroying.request('/')).status, 200);
  });
});

describe('the client address', () => {
  const table = 'hono_addresses';
  let store: SessionPgsql<Record<string, unknown>>;
  let direct: HonoTestApp;
  let proxied: HonoTestApp;
  let own: HonoTestApp;

  before(async () => {
    // one core, three apps: without and with trustProxy, and with a getConnInfo of its own
    store = new SessionPgsql({ db: url, table, gcInterval: 0, poolSize: 4 });
    direct = await startHonoApp({ store });
    proxied = await startHonoApp({ store, session: { trustProxy: true } });
    own = await startHonoApp({
      store,
      session: { getConnInfo: () => ({ remote: { address: '192.0.2.44' } }) },
    });
  });
  after(async () => {
    await direct.close();
    await proxied.close();
    await own.close();
  });

  it("without trustProxy X-Forwarded-For is ignored: node-server's getConnInfo gives the socket's", async () => {
    const client = direct.client();
    const r = await client.post('/increment', FORWARDED);
    const row = await sql.mustRow(table, r.body.id);
    assert.equal(row.sess_addr_created, '127.0.0.1');
    assert.equal(row.sess_addr_modified, '127.0.0.1');
  });

  it('with trustProxy the left-most X-Forwarded-For address is stored, created and modified', async () => {
    const client = proxied.client();
    const r = await client.post('/increment', FORWARDED);
    const row = await sql.mustRow(table, r.body.id);
    assert.equal(row.sess_addr_created, '203.0.113.7');
    await client.post('/increment', { 'x-forwarded-for': '198.51.100.2' });
    const after = await sql.mustRow(table, r.body.id);
    assert.equal(after.sess_addr_created, '203.0.113.7');
    assert.equal(after.sess_addr_modified, '198.51.100.2');
    await client.post('/increment'); // no header: the socket's
    assert.equal((await sql.mustRow(table, r.body.id)).sess_addr_modified, '127.0.0.1');
  });

  it('a regenerated session records the address of the request that regenerated it', async () => {
    const client = proxied.client();
    await client.post('/increment', FORWARDED);
    const r = await client.post('/regenerate', { 'x-forwarded-for': '198.51.100.9' });
    const row = await sql.mustRow(table, r.body.id);
    assert.equal(row.sess_addr_created, '198.51.100.9');
  });

  it('a getConnInfo of your own (another runtime): its address is stored', async () => {
    const r = await own.client().post('/increment', FORWARDED);
    assert.equal((await sql.mustRow(table, r.body.id)).sess_addr_created, '192.0.2.44');
  });

  it('no server behind the request (app.request()): no address, and the session is stored', async () => {
    const app = new Hono<SessionEnv>();
    app.use(sessionMiddleware({ store, secret: HONO_SECRET, cookie: { secure: false } }));
    app.post('/', (c) => {
      c.get('session').set('n', 1);
      return c.text(c.get('session').id);
    });
    const r = await app.request('/', { method: 'POST' });
    assert.equal(r.status, 200);
    assert.doesNotMatch(r.headers.get('set-cookie') ?? '', /Secure/);
    const row = await sql.mustRow(table, await r.text());
    assert.equal(row.sess_addr_created, null);
  });
});

describe('cookie options', () => {
  const store = new SessionPgsql({ db: url, table: 'hono_cookie_options', gcInterval: 0 });
  after(() => store.close());

  it("prefix 'host': the __Host- cookie is set, read back and cleared", async () => {
    const app = new Hono()
      .use(
        sessionMiddleware<{ n: number }>({
          store,
          secret: HONO_SECRET,
          cookie: { prefix: 'host' },
        }),
      )
      .post('/', (c) => {
        c.get('session').set('n', (c.get('session').get('n') ?? 0) + 1);
        return c.json(c.get('session'));
      })
      .post('/logout', async (c) => {
        await c.get('session').destroy();
        return c.text('bye');
      });
    const first = await app.request('/', { method: 'POST' });
    const setCookie = first.headers.get('set-cookie') ?? '';
    assert.match(
      setCookie,
      /^__Host-sid=[^;]+; Max-Age=1440; Path=\/; Expires=[^;]+; HttpOnly; Secure; SameSite=Lax$/,
    );
    const cookie = setCookie.split(';')[0] ?? '';
    const second = await app.request('/', { method: 'POST', headers: { cookie } });
    assert.deepEqual(await second.json(), { n: 2 });
    const out = await app.request('/logout', { method: 'POST', headers: { cookie } });
    assert.match(out.headers.get('set-cookie') ?? '', /^__Host-sid=; Max-Age=0; Path=\/;/);
  });
});

describe('options', () => {
  const store = new SessionPgsql<Record<string, unknown>>({
    db: url,
    table: 'hono_options',
    gcInterval: 0,
  });
  after(() => store.close());
  const invalid = { code: 'SPG_INVALID_OPTION' };

  it('are validated when the middleware is made; the secret is never shown', () => {
    const secret = HONO_SECRET;
    assert.throws(
      () => sessionMiddleware({ store, secret: 'short-secret-value' }),
      (error: Error) => {
        assert.equal((error as { code?: string }).code, 'SPG_INVALID_OPTION');
        assert.doesNotMatch(error.message, /short-secret-value/);
        return true;
      },
    );
    assert.throws(() => sessionMiddleware({ store, secret: [] }), invalid);
    assert.throws(() => sessionMiddleware({ store, secret, ttl: 401 * 86_400 }), invalid);
    assert.throws(() => sessionMiddleware({ store, secret, rolling: 'yes' as never }), invalid);
    assert.throws(
      () => sessionMiddleware({ store, secret, cookie: { sameSite: 'lax' as never } }),
      invalid,
    );
    assert.throws(
      () => sessionMiddleware({ store, secret, cookie: { sameSite: 'None', secure: false } }),
      invalid,
    );
    assert.throws(
      () => sessionMiddleware({ store, secret, cookie: { prefix: 'host', path: '/a' } }),
      invalid,
    );
    assert.throws(
      () => sessionMiddleware({ store, secret, maxAge: 1 } as never),
      /unknown option "maxAge"/,
    );
    const made = sessionMiddleware({ store, secret });
    assert.equal(made.store, store);
    // one core for the Express store and the Hono middleware
    const express = new PgsqlStore(store);
    assert.equal(sessionMiddleware({ store: express.core, secret }).store, store);
  });
});
