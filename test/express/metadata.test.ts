/**
 * The metadata helpers through HTTP routes: sessionInfo, getField/setField, addError/getError,
 * and the client address, which follows Express's `trust proxy`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ErrorCounters } from '../../src/adapters/express.js';
import {
  type Client,
  Sql,
  startApp,
  type TestApp,
  type WriteCounter,
} from '../helpers/express-app.js';
import { sharedDatabaseUrl } from '../helpers/postgres.js';

/** sessionInfo() as JSON. */
interface InfoReply {
  id: string;
  server: { index: number; connection: string };
  accesses: number;
  errors: number;
  warnings: number;
  notices: number;
  errorMessage: string | null;
  created: string | null;
  modified: string | null;
  expires: string | null;
  createdAddress: string | null;
  modifiedAddress: string | null;
  custom: string | null;
}

const url = await sharedDatabaseUrl();
const sql = new Sql(url);
after(() => sql.close());

const isoOf = (seconds: number) => new Date(seconds * 1000).toISOString();
const forwardedFor = (address: string) => ({ 'x-forwarded-for': address });

describe('sessionInfo', () => {
  const table = 'meta_info';
  let app: TestApp;
  before(async () => {
    app = await startApp({ store: { db: url, table }, session: { cookie: { maxAge: 600_000 } } });
  });
  after(() => app.close());

  it('describes a new session that is not stored yet', async () => {
    const info = (await app.client().get<InfoReply>('/info')).body;
    assert.equal(info.accesses, 0);
    assert.equal(info.created, null);
    assert.equal(info.expires, null);
    assert.equal(info.createdAddress, null);
    assert.equal(info.server.index, 0);
  });

  it('returns the stored row: id, server, accesses, times and addresses', async () => {
    const client = app.client();
    await client.post('/increment');
    const id = client.sessionId;
    assert.ok(id);
    const row = await sql.mustRow(table, id);
    const info = (await client.get<InfoReply>('/info')).body;
    const expectedUrl = new URL(url);
    expectedUrl.password = '***';
    assert.deepEqual(info, {
      id,
      server: { index: 0, connection: expectedUrl.href },
      accesses: 1,
      errors: 0,
      warnings: 0,
      notices: 0,
      errorMessage: null,
      created: isoOf(row.sess_created),
      modified: isoOf(row.sess_modified),
      expires: isoOf(row.sess_expire),
      createdAddress: '127.0.0.1',
      modifiedAddress: '127.0.0.1',
      custom: null,
    });
    assert.ok(!info.server.connection.includes(new URL(url).password), 'password hidden');
    // that read-only request was an access too
    assert.equal((await client.get<InfoReply>('/info')).body.accesses, 2);
  });
});

describe('the client address', () => {
  let trusting: TestApp;
  let direct: TestApp;
  before(async () => {
    trusting = await startApp({ store: { db: url, table: 'meta_proxy' }, trustProxy: true });
    direct = await startApp({ store: { db: url, table: 'meta_direct' } });
  });
  after(async () => {
    await trusting.close();
    await direct.close();
  });

  it('with trust proxy, is the forwarded one: creating address kept, modifying address updated', async () => {
    const client = trusting.client();
    await client.post('/increment', forwardedFor('203.0.113.7'));
    const id = client.sessionId;
    assert.ok(id);
    let row = await sql.mustRow('meta_proxy', id);
    assert.equal(row.sess_addr_created, '203.0.113.7');
    assert.equal(row.sess_addr_modified, '203.0.113.7');
    await client.post('/increment', forwardedFor('198.51.100.9'));
    row = await sql.mustRow('meta_proxy', id);
    assert.equal(row.sess_addr_created, '203.0.113.7');
    assert.equal(row.sess_addr_modified, '198.51.100.9');
    await client.get('/session', forwardedFor('192.0.2.1')); // touch records the address too
    row = await sql.mustRow('meta_proxy', id);
    assert.equal(row.sess_addr_modified, '192.0.2.1');
    const info = (await client.get<InfoReply>('/info', forwardedFor('192.0.2.1'))).body;
    assert.equal(info.createdAddress, '203.0.113.7');
    assert.equal(info.modifiedAddress, '192.0.2.1');
  });

  it('without trust proxy, is the socket address whatever the header says', async () => {
    const client = direct.client();
    await client.post('/increment', forwardedFor('203.0.113.7'));
    const id = client.sessionId;
    assert.ok(id);
    const row = await sql.mustRow('meta_direct', id);
    assert.equal(row.sess_addr_created, '127.0.0.1');
    assert.equal(row.sess_addr_modified, '127.0.0.1');
  });
});

for (const resave of [false, true]) {
  describe(`setField / getField under shortCircuit (resave=${resave})`, () => {
    const table = `meta_field_resave_${resave}`;
    let app: TestApp;
    let writes: WriteCounter;
    let client: Client;
    let id: string;
    before(async () => {
      app = await startApp({
        store: { db: url, table, shortCircuit: true },
        session: { resave, cookie: { maxAge: 600_000 } },
      });
      writes = await sql.countWrites(table);
      client = app.client();
      await client.post('/increment');
      assert.ok(client.sessionId);
      id = client.sessionId;
    });
    after(() => app.close());

    it('setting the field forces a write although the data did not change', async () => {
      const stored = await sql.mustRow(table, id);
      assert.equal((await client.get<{ field: string | null }>('/field')).body.field, null);
      const before = await writes.count();
      const r = await client.post<{ field: string | null }>('/field?value=hello%20world');
      assert.equal(r.body.field, 'hello world');
      assert.equal((await writes.count()) - before, 1);
      const row = await sql.mustRow(table, id);
      assert.equal(row.sess_custom, 'hello world');
      assert.equal(row.sess_data, stored.sess_data);
    });

    it('getField returns it in later requests, which write nothing', async () => {
      const before = await writes.count();
      assert.equal(
        (await client.get<{ field: string | null }>('/field')).body.field,
        'hello world',
      );
      assert.equal((await client.get<InfoReply>('/info')).body.custom, 'hello world');
      assert.equal((await writes.count()) - before, 0);
    });

    it('setting it to null clears it, with a write', async () => {
      const before = await writes.count();
      assert.equal((await client.post<{ field: string | null }>('/field')).body.field, null);
      assert.equal((await writes.count()) - before, 1);
      assert.equal((await sql.mustRow(table, id)).sess_custom, null);
      assert.deepEqual(app.errors, []);
    });
  });
}

describe('metadata on a new session (saveUninitialized)', () => {
  const table = 'meta_new';
  let app: TestApp;
  before(async () => {
    app = await startApp({ store: { db: url, table }, session: { saveUninitialized: true } });
  });
  after(() => app.close());

  it('is written with the new session', async () => {
    const client = app.client();
    await client.post('/field?value=first-visit');
    assert.ok(client.sessionId);
    await client.post('/error?level=notice&message=welcome');
    const row = await sql.mustRow(table, client.sessionId);
    assert.equal(row.sess_custom, 'first-visit');
    assert.deepEqual([row.sess_notice, row.sess_err_message], [1, 'welcome']);
    const fresh = app.client();
    await fresh.post('/error?level=warning');
    assert.ok(fresh.sessionId);
    assert.equal((await sql.mustRow(table, fresh.sessionId)).sess_warning, 1);
  });
});

describe('addError / getError', () => {
  const table = 'meta_errors';
  let app: TestApp;
  let writes: WriteCounter;
  let client: Client;
  let id: string;
  before(async () => {
    app = await startApp({
      store: { db: url, table, shortCircuit: true },
      session: { cookie: { maxAge: 600_000 } },
    });
    writes = await sql.countWrites(table);
    client = app.client();
    await client.post('/increment');
    assert.ok(client.sessionId);
    id = client.sessionId;
  });
  after(() => app.close());

  it('raises each level counter with its message, and forces a write', async () => {
    const before = await writes.count();
    let r = await client.post<ErrorCounters>('/error?level=error&message=boom');
    assert.deepEqual(r.body, { error: 1, warning: 0, notice: 0, message: 'boom' });
    r = await client.post<ErrorCounters>('/error?level=warning');
    assert.deepEqual(r.body, { error: 1, warning: 1, notice: 0, message: 'boom' });
    r = await client.post<ErrorCounters>('/error?level=notice&message=note');
    assert.deepEqual(r.body, { error: 1, warning: 1, notice: 1, message: 'note' });
    assert.equal((await writes.count()) - before, 3, 'one write per request, short circuit on');
    const row = await sql.mustRow(table, id);
    assert.deepEqual(
      [row.sess_error, row.sess_warning, row.sess_notice, row.sess_err_message],
      [1, 1, 1, 'note'],
    );
  });

  it('getError gives the counters, and the message only when asked', async () => {
    const without = await client.get<ErrorCounters>('/error');
    assert.deepEqual(without.body, { error: 1, warning: 1, notice: 1 });
    const withMessage = await client.get<ErrorCounters>('/error?withMessage=1');
    assert.deepEqual(withMessage.body, { error: 1, warning: 1, notice: 1, message: 'note' });
    const info = (await client.get<InfoReply>('/info')).body;
    assert.deepEqual(
      [info.errors, info.warnings, info.notices, info.errorMessage],
      [1, 1, 1, 'note'],
    );
  });

  it('an unknown level is refused with SPG_INVALID_ERROR_LEVEL and changes nothing', async () => {
    const stored = await sql.mustRow(table, id);
    const r = await client.post<{ code: string }>('/error?level=fatal&message=nope');
    assert.equal(r.status, 500);
    assert.equal(r.body.code, 'SPG_INVALID_ERROR_LEVEL');
    const row = await sql.mustRow(table, id);
    assert.deepEqual(
      [row.sess_error, row.sess_warning, row.sess_notice, row.sess_err_message],
      [stored.sess_error, stored.sess_warning, stored.sess_notice, stored.sess_err_message],
    );
    assert.equal(app.errors.length, 1);
  });
});
