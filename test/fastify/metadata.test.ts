/**
 * session_pgsql's metadata through Fastify: the helpers taking Fastify's `request`
 * (sessionInfo, getField, setField, addError, getError), what they write in the row, the
 * client address (`request.ip`, so Fastify's `trustProxy` decides whether X-Forwarded-For
 * is believed), and SPG_NO_SESSION where there is no session of this store.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import { getField, PgsqlStore, type SessionInfo, sessionInfo } from '../../src/adapters/fastify.js';
import { type FastifyTestApp, startFastifyApp } from '../helpers/fastify-app.js';
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

describe('metadata helpers with @fastify/session', () => {
  const table = 'fastify_metadata';
  let app: FastifyTestApp;

  before(async () => {
    app = await startFastifyApp({ store: { db: url, table, shortCircuit: true } });
  });
  after(() => app.close());

  it("sessionInfo on a new session's first request: nothing stored yet", async () => {
    const client = app.client();
    const r = await client.get<Info>('/info');
    assert.equal(r.status, 200);
    assert.equal(r.body.id, client.sessionId);
    assert.equal(r.body.accesses, 0);
    assert.equal(r.body.created, null);
    assert.equal(r.body.createdAddress, null);
    assert.equal(r.body.server.index, 0);
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
    const set = await client.post<{ field: string | null }>('/field?value=plan%3Dpro');
    assert.deepEqual(set.body, { field: 'plan=pro' });
    const id = client.sessionId ?? '';
    assert.equal((await sql.mustRow(table, id)).sess_custom, 'plan=pro');
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
  });

  it('a metadata change alone is written under the short circuit (the data did not change)', async () => {
    const client = app.client();
    await client.post('/increment');
    const id = client.sessionId ?? '';
    const before = await sql.mustRow(table, id);
    await client.post('/field?value=only-metadata');
    const row = await sql.mustRow(table, id);
    assert.equal(row.sess_custom, 'only-metadata');
    assert.equal(row.sess_counter, before.sess_counter + 1);
    assert.equal(row.sess_data, before.sess_data);
  });

  it('the helpers throw SPG_NO_SESSION without a session of a PgsqlStore', async () => {
    const noSession = { code: 'SPG_NO_SESSION' };
    assert.throws(() => sessionInfo({}), noSession);
    assert.throws(() => getField({ session: {}, sessionStore: app.store }), noSession);
    assert.throws(() => getField({ session: { sessionId: 'x' }, sessionStore: {} }), noSession);
    const bare = Fastify();
    bare.get('/info', async (request) => sessionInfo(request));
    const r = await bare.inject({ method: 'GET', url: '/info' });
    assert.equal(r.statusCode, 500);
    assert.equal(r.json<{ code: string }>().code, 'SPG_NO_SESSION');
    await bare.close();
  });
});

describe('metadata with rolling: false and saveUninitialized: false', () => {
  const table = 'fastify_metadata_not_rolling';
  let app: FastifyTestApp;

  before(async () => {
    app = await startFastifyApp({
      store: { db: url, table, shortCircuit: true },
      session: { rolling: false, saveUninitialized: false },
    });
  });
  after(() => app.close());

  it('setField on an unchanged session is saved though @fastify/session saves only changes', async () => {
    const client = app.client();
    await client.post('/increment');
    const id = client.sessionId ?? '';
    const before = await sql.mustRow(table, id);
    await client.get('/session');
    assert.equal((await sql.mustRow(table, id)).sess_counter, before.sess_counter, 'not saved');
    await client.post('/field?value=marked');
    const row = await sql.mustRow(table, id);
    assert.equal(row.sess_custom, 'marked');
    assert.equal(row.sess_data, before.sess_data);
    await client.get('/session');
    assert.equal((await sql.mustRow(table, id)).sess_counter, row.sess_counter, 'then clean');
  });

  it('addError on a new, empty session stores it', async () => {
    const client = app.client();
    const empty = await client.get('/session');
    assert.equal(empty.setCookie, undefined, 'an empty new session is not saved');
    const r = await client.post('/error?level=notice&message=first%20visit');
    assert.equal(r.status, 200);
    assert.ok(r.setId, 'the session is saved, with a cookie');
    const row = await sql.mustRow(table, r.setId);
    assert.equal(row.sess_notice, 1);
    assert.equal(row.sess_err_message, 'first visit');
  });
});

describe('the client address', () => {
  const table = 'fastify_addresses';
  let store: PgsqlStore;
  let direct: FastifyTestApp;
  let proxied: FastifyTestApp;

  before(async () => {
    // one core, two apps: with and without trustProxy
    store = new PgsqlStore({ db: url, table, gcInterval: 0, poolSize: 4 });
    direct = await startFastifyApp({ store });
    proxied = await startFastifyApp({ store: new PgsqlStore(store.core), trustProxy: true });
  });
  after(async () => {
    await direct.close();
    await proxied.close();
  });

  it('without trustProxy X-Forwarded-For is ignored: the socket address is stored', async () => {
    const client = direct.client();
    const r = await client.post('/increment', FORWARDED);
    const row = await sql.mustRow(table, r.body.id);
    assert.equal(row.sess_addr_created, '127.0.0.1');
    assert.equal(row.sess_addr_modified, '127.0.0.1');
  });

  it("with trustProxy the forwarded client's address is stored, created and modified", async () => {
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
