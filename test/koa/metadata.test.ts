/**
 * session_pgsql's metadata through Koa: the helpers taking Koa's `ctx` (sessionInfo,
 * getField, setField, addError, getError), what they write in the row (also when only the
 * metadata changed: koa-session saves only what it sees changed), the client address
 * (`ctx.ip`, so `app.proxy` decides whether X-Forwarded-For is believed), and SPG_NO_SESSION
 * where there is no session of this store.
 */
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import Koa from 'koa';
import session from 'koa-session';
import { getField, PgsqlStore, type SessionInfo, sessionInfo } from '../../src/adapters/koa.js';
import { type KoaTestApp, startKoaApp } from '../helpers/koa-app.js';
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

const FORWARDED = { 'x-forwarded-for': '203.0.113.7' };

for (const rolling of [false, true]) {
  describe(`metadata helpers with koa-session (rolling: ${rolling})`, () => {
    const table = `koa_metadata_rolling_${rolling}`;
    let app: KoaTestApp;

    before(async () => {
      app = await startKoaApp({
        store: { db: url, table, shortCircuit: true },
        session: { rolling },
      });
    });
    after(() => app.close());

    it("sessionInfo on a new session's first request: nothing stored yet, nothing saved", async () => {
      const client = app.client();
      const r = await client.get<Info>('/info');
      assert.equal(r.status, 200);
      assert.equal(r.body.accesses, 0);
      assert.equal(r.body.created, null);
      assert.equal(r.body.createdAddress, null);
      assert.equal(r.body.server.index, 0);
      assert.equal(r.setCookie, undefined, 'reading metadata does not make the session saved');
      assert.equal(await sql.count(table), 0);
    });

    it('sessionInfo shows the row: accesses, times, addresses', async () => {
      const client = app.client();
      await client.post('/increment');
      await client.post('/increment');
      const r = await client.get<Info>('/info');
      assert.equal(r.body.id, client.sessionId);
      const row = await sql.mustRow(table, r.body.id);
      assert.equal(r.body.accesses, 2);
      assert.equal(r.body.accesses, row.sess_counter);
      assert.equal(r.body.createdAddress, '127.0.0.1');
      assert.equal(r.body.modifiedAddress, '127.0.0.1');
      assert.equal(row.sess_addr_created, '127.0.0.1');
      assert.equal(new Date(r.body.expires ?? 0).getTime() / 1000, row.sess_expire);
    });

    it('setField on an unchanged session is saved, though koa-session saves only changes', async () => {
      const client = app.client();
      await client.post('/increment');
      const id = client.sessionId ?? '';
      const before = await sql.mustRow(table, id);
      await client.get('/session');
      assert.equal((await sql.mustRow(table, id)).sess_counter, before.sess_counter, 'not saved');
      const set = await client.post<{ field: string | null }>('/field?value=plan%3Dpro');
      assert.deepEqual(set.body, { field: 'plan=pro' });
      const row = await sql.mustRow(table, id);
      assert.equal(row.sess_custom, 'plan=pro');
      assert.equal(row.sess_counter, before.sess_counter + 1);
      assert.equal(row.sess_data, before.sess_data, 'the data as it was');
      const got = await client.get<{ field: string | null }>('/field');
      assert.deepEqual(got.body, { field: 'plan=pro' });
      assert.equal((await sql.mustRow(table, id)).sess_counter, row.sess_counter, 'then clean');
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

    it('addError on a new, empty session stores it', async () => {
      const client = app.client();
      const r = await client.post('/error?level=notice&message=first%20visit');
      assert.equal(r.status, 200);
      assert.ok(r.setId, 'the session is saved, with a cookie');
      const row = await sql.mustRow(table, r.setId);
      assert.equal(row.sess_notice, 1);
      assert.equal(row.sess_err_message, 'first visit');
    });

    it('after regenerate() the helpers see the new session', async () => {
      const client = app.client();
      const old = (await client.post('/increment')).body.id;
      const r = await client.post<{ id: string }>('/regenerate');
      assert.notEqual(r.body.id, old);
      await client.post('/field?value=after');
      assert.equal((await sql.mustRow(table, r.body.id)).sess_custom, 'after');
      assert.equal(await sql.row(table, old), undefined);
      assert.deepEqual(app.errors, []);
    });
  });
}

describe('the helpers without a session of a PgsqlStore', () => {
  it('throw SPG_NO_SESSION', async () => {
    const noSession = { code: 'SPG_NO_SESSION' };
    const store = new PgsqlStore({ db: url, table: 'koa_no_session', gcInterval: 0 });
    assert.throws(() => sessionInfo({}), noSession);
    assert.throws(() => getField({ session: null, sessionOptions: { store } }), noSession);
    assert.throws(() => getField({ session: { externalKey: 'x' }, sessionOptions: {} }), noSession);
    // koa-session with its own cookie store: not ours
    const app = new Koa({ keys: ['k'] });
    app.use(session({}, app));
    app.use((ctx) => {
      try {
        sessionInfo(ctx);
        ctx.body = 'no error';
      } catch (error) {
        ctx.body = (error as { code?: string }).code;
      }
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    assert.equal(await (await fetch(`http://127.0.0.1:${port}/`)).text(), 'SPG_NO_SESSION');
    server.closeAllConnections();
    server.close();
    await store.close();
  });
});

describe('the client address', () => {
  const table = 'koa_addresses';
  let store: PgsqlStore;
  let direct: KoaTestApp;
  let proxied: KoaTestApp;

  before(async () => {
    // one core, two apps: with and without app.proxy
    store = new PgsqlStore({ db: url, table, gcInterval: 0, poolSize: 4 });
    direct = await startKoaApp({ store });
    proxied = await startKoaApp({ store: new PgsqlStore(store.core), proxy: true });
  });
  after(async () => {
    await direct.close();
    await proxied.close();
  });

  it('without app.proxy X-Forwarded-For is ignored: the socket address is stored', async () => {
    const client = direct.client();
    const r = await client.post('/increment', FORWARDED);
    const row = await sql.mustRow(table, r.body.id);
    assert.equal(row.sess_addr_created, '127.0.0.1');
    assert.equal(row.sess_addr_modified, '127.0.0.1');
  });

  it("with app.proxy the forwarded client's address is stored, created and modified", async () => {
    const client = proxied.client();
    const r = await client.post('/increment', FORWARDED);
    const row = await sql.mustRow(table, r.body.id);
    assert.equal(row.sess_addr_created, '203.0.113.7');
    await client.post('/increment', { 'x-forwarded-for': '198.51.100.2' });
    const after = await sql.mustRow(table, r.body.id);
    assert.equal(after.sess_addr_created, '203.0.113.7');
    assert.equal(after.sess_addr_modified, '198.51.100.2');
  });

  it('a regenerated session records the address of the request that regenerated it', async () => {
    const client = proxied.client();
    await client.post('/increment', FORWARDED);
    const r = await client.post('/regenerate', { 'x-forwarded-for': '192.0.2.44' });
    const row = await sql.mustRow(table, r.body.id);
    assert.equal(row.sess_addr_created, '192.0.2.44');
    assert.deepEqual([...direct.errors, ...proxied.errors], []);
  });
});
