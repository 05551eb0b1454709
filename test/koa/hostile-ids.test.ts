/**
 * Hostile and unknown session keys. koa-session's cookie holds the key as it is (the
 * signature is a cookie of its own), so the test signs whatever it sends: quotes, 10 kB,
 * SQL text, percent signs reach the store through real HTTP; NUL bytes, non-ASCII and CR LF,
 * which no HTTP header carries, are handed to the store's `get` as koa-session would. No SQL
 * runs for them, nothing crashes, and the request gets a new session under a key of
 * koa-session's own, never the one the client chose.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { type KoaTestApp, startKoaApp } from '../helpers/koa-app.js';
import { sharedDatabaseUrl } from '../helpers/postgres.js';
import { Sql, statementCounts, storedKey, type WriteCounter } from '../helpers/session-sql.js';

/** Keys a cookie header can carry. */
const OVER_HTTP: Record<string, string> = {
  'single and double quotes': `abc'def"ghi'jklmnopqrstuvwxyz012345`,
  '10 kB long': 'a'.repeat(10_240),
  'SQL injection in an id-like shape': "AAAAAAAAAAAAAAAA'OR'1'='1",
  'SQL text': "x'),('y') DROP TABLE koa_hostile --",
  'backslashes and percent': '\\\\x00%00%27%22%5c\\\\abcdefghijklmnop',
  'too short': 'abc',
};
/** Keys no header carries: straight to the store's get, with a context as koa-session passes it. */
const TO_THE_STORE: Record<string, string> = {
  'NUL bytes': 'abcdefgh\0ijklmnop\0qrstuvwxyz012345',
  'non-ASCII': 'séssiön-идентификатор-会话-🔑-0123456789',
  'CR LF': 'abcdefghijklmnop\r\nSet-Cookie: evil=1',
};

const url = await sharedDatabaseUrl();
const sql = new Sql(url);
after(() => sql.close());

describe('hostile and unknown session keys', () => {
  const table = 'koa_hostile';
  let app: KoaTestApp;
  let writes: WriteCounter;
  let realId: string;
  /** Every key koa-session asked the store for: the hostile keys must reach it. */
  const asked: string[] = [];

  before(async () => {
    app = await startKoaApp({ store: { db: url, table }, session: { maxAge: 600_000 } });
    writes = await sql.countWrites(table);
    const get = app.store.get.bind(app.store);
    app.store.get = (key, ...rest) => {
      asked.push(key);
      return get(key, ...rest);
    };
    const r = await app.client().post('/increment');
    assert.ok(r.setId);
    realId = r.setId;
  });
  after(() => app.close());

  /** The store's statement counts, but for the `count` that status() itself runs. */
  async function statements(): Promise<Record<string, number>> {
    const { count: _count, ...counts } = await statementCounts(app.store);
    return counts;
  }

  it('a cookie crafted by the test for a real key is accepted (the signing is right)', async () => {
    const client = app.client();
    client.useSessionId(realId);
    const r = await client.get('/session');
    assert.equal(r.body.id, realId);
    assert.deepEqual(r.body.data, { counter: 1 });
  });

  it('an unknown key of the right shape: one read, a new session under a new key', async () => {
    const unknown = randomUUID();
    const client = app.client();
    client.useSessionId(unknown);
    const before = await statements();
    const read = await client.get('/session');
    assert.equal(asked.at(-1), unknown);
    assert.notEqual(read.body.id, unknown);
    assert.deepEqual(read.body.data, {});
    assert.equal((await statements()).read, (before.read ?? 0) + 1, 'it was looked up');
    client.useSessionId(unknown);
    const write = await client.post('/increment');
    assert.ok(write.setId);
    assert.notEqual(write.setId, unknown, 'the client does not choose its key');
    assert.equal(await sql.row(table, unknown), undefined);
  });

  for (const [what, hostile] of Object.entries(OVER_HTTP)) {
    it(`${what}: no SQL runs, the request gets a new session`, async () => {
      const before = { statements: await statements(), writes: await writes.count() };
      const client = app.client();
      client.useSessionId(hostile);
      const read = await client.get('/session'); // read-only: nothing to save
      assert.equal(read.status, 200);
      assert.equal(asked.at(-1), hostile, 'koa-session passed the key to the store');
      assert.notEqual(read.body.id, hostile);
      assert.deepEqual(read.body.data, {});
      assert.equal(read.setCookie, undefined);
      assert.deepEqual(await statements(), before.statements, 'no statement ran');
      assert.equal(await writes.count(), before.writes);

      client.useSessionId(hostile);
      const write = await client.post('/increment'); // saved under a new, generated key
      assert.equal(write.status, 200);
      assert.ok(write.setId);
      assert.notEqual(write.setId, hostile);
      assert.deepEqual(write.body.data, { counter: 1 });
      const rows = await sql.query<{ sess_id: string }>(
        'SELECT sess_id FROM koa_hostile WHERE sess_id = $1 OR sess_id = $2',
        [hostile, storedKey(hostile)],
      );
      assert.deepEqual(rows, []);
      assert.ok(await sql.row(table, write.setId));
    });
  }

  for (const [what, hostile] of Object.entries(TO_THE_STORE)) {
    it(`${what}: get finds nothing and runs no SQL; destroy is a no-op; set refuses it`, async () => {
      const before = await statements();
      const ctx = { ip: '127.0.0.1' };
      assert.equal(await app.store.get(hostile, 600_000, { ctx, rolling: false }), undefined);
      await app.store.destroy(hostile, { ctx });
      await assert.rejects(
        app.store.set(hostile, { counter: 1 }, 600_000, { ctx, changed: true }),
        (error: Error & { code?: string }) =>
          error.code === 'SPG_INVALID_SESSION_ID' && !error.message.includes(hostile),
      );
      assert.deepEqual(await statements(), before, 'no statement ran');
    });
  }

  it('the table is intact and every error was avoided', async () => {
    assert.equal(await sql.count(table), 2 + Object.keys(OVER_HTTP).length);
    assert.deepEqual(app.errors, []);
  });
});
