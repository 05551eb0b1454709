/**
 * Every combination of express-session's resave × saveUninitialized × rolling, with a
 * persistent cookie (maxAge) and a browser-session cookie (ttl fallback): what reaches
 * PostgreSQL and what the client gets, for a new visitor and a returning one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  assertNear,
  type Client,
  type SessionRow,
  Sql,
  startApp,
  statementCounts,
  type TestApp,
} from '../helpers/express-app.js';
import { sharedDatabaseUrl } from '../helpers/postgres.js';

const MAX_AGE_SECONDS = 600;
const TTL_SECONDS = 900;

const url = await sharedDatabaseUrl();
const sql = new Sql(url);
after(() => sql.close());

const flags = [false, true] as const;
for (const resave of flags) {
  for (const saveUninitialized of flags) {
    for (const rolling of flags) {
      for (const persistent of flags) {
        describeCombination({ resave, saveUninitialized, rolling, persistent });
      }
    }
  }
}

interface Combination {
  resave: boolean;
  saveUninitialized: boolean;
  rolling: boolean;
  /** A cookie with maxAge; otherwise a browser-session cookie, whose session lasts `ttl`. */
  persistent: boolean;
}

function describeCombination(c: Combination): void {
  const bit = (flag: boolean) => (flag ? '1' : '0');
  const table = `m_${bit(c.resave)}${bit(c.saveUninitialized)}${bit(c.rolling)}_${c.persistent ? 'persistent' : 'browser'}`;
  const lifetime = c.persistent ? MAX_AGE_SECONDS : TTL_SECONDS;
  const title = `resave=${c.resave} saveUninitialized=${c.saveUninitialized} rolling=${c.rolling}, ${c.persistent ? 'cookie maxAge' : 'browser-session cookie'}`;

  describe(title, () => {
    let app: TestApp;
    let visitor: Client;
    let visitorId: string;

    before(async () => {
      app = await startApp({
        store: { db: url, table, ttl: TTL_SECONDS },
        session: {
          resave: c.resave,
          saveUninitialized: c.saveUninitialized,
          rolling: c.rolling,
          cookie: c.persistent ? { maxAge: MAX_AGE_SECONDS * 1000 } : {},
        },
      });
    });
    after(() => app.close());

    /** The stored expiry is the cookie's: now + maxAge, or now + ttl without maxAge. */
    async function assertFreshExpiry(row: SessionRow): Promise<void> {
      assertNear(row.sess_expire - (await sql.now()), lifetime, 2, 'sess_expire - db now');
    }

    it('a new visitor who only reads is stored only with saveUninitialized', async () => {
      const client = app.client();
      const r = await client.get('/session');
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.data, {});
      assert.equal(r.setCookie !== undefined, c.saveUninitialized, 'Set-Cookie');
      const row = await sql.row(table, r.body.id);
      if (c.saveUninitialized) {
        assert.equal(r.setId, r.body.id);
        assert.equal(r.cookieExpires !== undefined, c.persistent, 'Expires attribute');
        assert.ok(row, 'the uninitialized session is stored');
        assert.equal(row.sess_counter, 1);
        assert.deepEqual(Object.keys(JSON.parse(row.sess_data ?? 'null')), ['cookie']);
        await assertFreshExpiry(row);
      } else {
        assert.equal(row, undefined);
        assert.equal(await sql.count(table), 0);
      }
      assert.deepEqual(app.errors, []);
    });

    it('a new visitor who modifies the session is stored and gets a cookie', async () => {
      visitor = app.client();
      const r = await visitor.post('/increment');
      assert.equal(r.status, 200);
      assert.deepEqual(r.body.data, { counter: 1 });
      assert.equal(r.setId, r.body.id, 'Set-Cookie with the new session id');
      visitorId = r.body.id;
      const row = await sql.mustRow(table, visitorId);
      assert.equal(row.sess_counter, 1);
      assert.equal(row.sess_name, 'connect.sid');
      assert.equal((await sql.data(table, visitorId)).counter, 1);
      await assertFreshExpiry(row);
    });

    it('a returning visitor who modifies the session: the change is stored', async () => {
      const counts = await statementCounts(app.store);
      const r = await visitor.post('/increment');
      assert.equal(r.body.id, visitorId);
      assert.deepEqual(r.body.data, { counter: 2 });
      // express-session resends the cookie when rolling, or when a persistent cookie's session changed
      assert.equal(r.setCookie !== undefined, c.rolling || c.persistent, 'Set-Cookie');
      if (r.setId !== undefined) assert.equal(r.setId, visitorId);
      const row = await sql.mustRow(table, visitorId);
      assert.equal((await sql.data(table, visitorId)).counter, 2);
      assert.equal(row.sess_counter, 2);
      await assertFreshExpiry(row);
      const now = await statementCounts(app.store);
      assert.equal((now.update ?? 0) - (counts.update ?? 0), 1, 'one UPDATE of what was read');
    });

    it('a returning visitor who only reads: data unchanged, expiry extended once', async () => {
      await sql.shiftExpiry(table, visitorId, -120);
      const stored = await sql.mustRow(table, visitorId);
      const counts = await statementCounts(app.store);
      const r = await visitor.get('/session');
      assert.equal(r.body.id, visitorId);
      assert.deepEqual(r.body.data, { counter: 2 });
      assert.equal(r.setCookie !== undefined, c.rolling, 'Set-Cookie only when rolling');
      const row = await sql.mustRow(table, visitorId);
      assert.equal(row.sess_data, stored.sess_data, 'data unchanged');
      assert.equal(row.sess_counter, stored.sess_counter + 1, 'one access counted');
      assert.ok(row.sess_modified > stored.sess_modified);
      await assertFreshExpiry(row);
      // resave: express-session calls set with the unchanged session; otherwise touch
      const now = await statementCounts(app.store);
      const delta = (kind: string) => (now[kind] ?? 0) - (counts[kind] ?? 0);
      assert.deepEqual(
        { update: delta('update'), touch: delta('touch'), write: delta('write') },
        c.resave ? { update: 1, touch: 0, write: 0 } : { update: 0, touch: 1, write: 0 },
      );
      assert.deepEqual(app.errors, []);
    });
  });
}
