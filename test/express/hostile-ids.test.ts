/**
 * Hostile session ids in a correctly signed cookie (so that express-session hands them to the
 * store): quotes, NUL bytes, 10 kB, non-ASCII, SQL text. No SQL runs for them, nothing
 * crashes, and the request gets a new session.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  Sql,
  startApp,
  statementCounts,
  storedKey,
  type TestApp,
  type WriteCounter,
} from '../helpers/express-app.js';
import { sharedDatabaseUrl } from '../helpers/postgres.js';

const HOSTILE_IDS: Record<string, string> = {
  'single and double quotes': `abc'def"ghi'jklmnopqrstuvwxyz012345`,
  'NUL bytes': 'abcdefgh\0ijklmnop\0qrstuvwxyz012345',
  '10 kB long': 'a'.repeat(10_240),
  'non-ASCII': 'séssiön-идентификатор-会话-🔑-0123456789',
  'SQL injection': "x'; DROP TABLE hostile_sessions; --",
  'SQL injection in an id-like shape': "AAAAAAAAAAAAAAAA' OR '1'='1",
  'backslashes and percent': '\\\\x00%00%27%22%5c\\\\abcdefghijklmnop',
  'CR LF': 'abcdefghijklmnop\r\nSet-Cookie: evil=1',
};

const url = await sharedDatabaseUrl();
const sql = new Sql(url);
after(() => sql.close());

describe('hostile session ids', () => {
  const table = 'hostile_sessions';
  let app: TestApp;
  let writes: WriteCounter;
  let realId: string;
  /** Every id express-session asked the store for: the hostile ids must reach it. */
  const asked: string[] = [];

  before(async () => {
    app = await startApp({ store: { db: url, table }, session: { cookie: { maxAge: 600_000 } } });
    writes = await sql.countWrites(table);
    const get = app.store.get.bind(app.store);
    app.store.get = (id, callback) => {
      asked.push(id);
      get(id, callback);
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

  it('a cookie crafted by the test for a real id is accepted (the signing is right)', async () => {
    const client = app.client();
    client.useSessionId(realId);
    const r = await client.get('/session');
    assert.equal(r.body.id, realId);
    assert.deepEqual(r.body.data, { counter: 1 });
  });

  for (const [what, hostile] of Object.entries(HOSTILE_IDS)) {
    it(`${what}: no SQL runs, the request gets a new session`, async () => {
      const before = { statements: await statements(), writes: await writes.count() };
      const client = app.client();
      client.useSessionId(hostile);
      const read = await client.get('/session'); // read-only: nothing to save
      assert.equal(read.status, 200);
      assert.equal(asked.at(-1), hostile, 'express-session passed the id to the store');
      assert.notEqual(read.body.id, hostile);
      assert.deepEqual(read.body.data, {});
      assert.equal(read.setCookie, undefined);
      assert.deepEqual(await statements(), before.statements, 'no statement ran');
      assert.equal(await writes.count(), before.writes);

      client.useSessionId(hostile);
      const write = await client.post('/increment'); // saved under a new, generated id
      assert.equal(write.status, 200);
      assert.notEqual(write.setId, hostile);
      assert.ok(write.setId);
      assert.deepEqual(write.body.data, { counter: 1 });
      const rows = await sql.query<{ sess_id: string }>(
        'SELECT sess_id FROM hostile_sessions WHERE sess_id = $1 OR sess_id = $2',
        [hostile.replaceAll('\0', ''), storedKey(hostile)],
      );
      assert.deepEqual(rows, []);
      assert.ok(await sql.row(table, write.setId));
    });
  }

  it('the table is intact and every error was avoided', async () => {
    assert.equal(await sql.count(table), 1 + Object.keys(HOSTILE_IDS).length);
    assert.deepEqual(app.errors, []);
  });
});
