/**
 * A row whose session has no express-session `cookie` (written by the PHP handler, the core
 * API or another application): express-session gets the cookie this app gives its new
 * sessions, attributes included, instead of failing the request with a 500 (express-session
 * reads `cookie.expires` of every stored session).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Sql, startApp, type TestApp } from '../helpers/express-app.js';
import { sharedDatabaseUrl } from '../helpers/postgres.js';

const url = await sharedDatabaseUrl();
const sql = new Sql(url);
after(() => sql.close());

const newId = () => randomBytes(24).toString('base64url');

describe('a stored session without a cookie', () => {
  const table = 'sessions_without_cookie';
  let app: TestApp;

  before(async () => {
    app = await startApp({
      store: { db: url, table },
      session: { cookie: { maxAge: 600_000, sameSite: 'strict', secure: false } },
    });
  });
  after(() => app.close());

  it('is read (200), with the app cookie; a change sends that cookie, with its attributes and lifetime', async () => {
    const id = newId();
    await app.store.core.write(id, { user: 'alice' });
    const client = app.client();
    client.useSessionId(id);
    const read = await client.get('/session');
    assert.equal(read.status, 200, JSON.stringify(read.body));
    assert.deepEqual(read.body, { id, data: { user: 'alice' } });
    const cookie = await client.get<{ maxAge: number | null; originalMaxAge: number | null }>(
      '/cookie',
    );
    assert.equal(cookie.body.originalMaxAge, 600_000);

    const changed = await client.post(`/set?key=theme&value=dark`);
    assert.equal(changed.status, 200);
    assert.match(changed.setCookie ?? '', /SameSite=Strict/);
    assert.match(changed.setCookie ?? '', /Expires=/);
    assert.equal(changed.setId, id, 'the same session, not a new one');
    const row = await sql.mustRow(table, id);
    assert.equal(row.sess_expire - row.sess_modified, 600, "the app cookie's maxAge");
    const stored = await sql.data(table, id);
    assert.deepEqual(stored.user, 'alice');
    assert.equal(stored.theme, 'dark');
    assert.equal((stored.cookie as { sameSite?: string }).sameSite, 'strict');
  });
});
