/**
 * Whoever reads the table (a dump, a backup, a read-only role) gets stored keys, not
 * session ids: replayed as cookies, correctly signed, they open no session.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { reportFault } from '../faults/fault-report.js';
import { Sql, startApp, type TestApp } from '../helpers/express-app.js';
import { sharedDatabaseUrl } from '../helpers/postgres.js';

const url = await sharedDatabaseUrl();
const sql = new Sql(url);
after(() => sql.close());

describe('a dump of the session table replayed as cookies', () => {
  const table = 'dumped_sessions';
  let app: TestApp;
  before(async () => {
    app = await startApp({ store: { db: url, table } });
  });
  after(() => app.close());

  it('opens none of the sessions it lists', async (t) => {
    for (let i = 0; i < 10; i++) await app.client().post(`/set?key=user&value=user${i}`);
    const dumped = await sql.query<{ sess_id: string }>(
      `SELECT sess_id FROM ${table} WHERE sess_id NOT LIKE '!%'`,
    );
    assert.equal(dumped.length, 10);
    for (const { sess_id: key } of dumped) {
      const replay = app.client();
      replay.useSessionId(key);
      const reply = await replay.get('/session');
      assert.equal(reply.status, 200);
      assert.equal(reply.body.data.user, undefined, 'no session opened');
    }
    reportFault(t, import.meta.url, {
      fault: 'Table dump replayed as cookies',
      done: 'every sess_id of the table sent back as a correctly signed session cookie',
      held: 'no session opens: the table holds SHA-256 digests of the ids, not the ids',
      sessions: dumped.length,
      lost: 0,
      failed: 0,
    });
  });
});
