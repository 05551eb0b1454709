/**
 * Issue 10, point 5: an Express app moves from connect-pg-simple to session-pgsql without
 * logging anyone out. Users log in on a real Express + express-session + connect-pg-simple
 * app (connect-pg-simple writes its own rows), importConnectPgSimple() brings the table
 * over, and the same app on PgsqlStore, with the same browser cookies, finds every user
 * logged in with the same data and the same cookie expiry; an expired session is not
 * brought over, a logged-out one stays logged out, and running the import again (after the
 * old app wrote some more) overwrites nothing newer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import connectPgSimple from 'connect-pg-simple';
import session from 'express-session';
import pg from 'pg';
import { PgsqlStore } from '../../src/adapters/express.js';
import { type ImportProgress, importConnectPgSimple } from '../../src/index.js';
import { uniqueTable } from '../core/fixtures.js';
import type { Client } from '../helpers/express-app.js';
import { type Me, startLoginApp } from '../helpers/login-app.js';
import { sharedDatabaseUrl } from '../helpers/postgres.js';
import { storedKey } from '../helpers/stored-row.js';

const PGStore = connectPgSimple(session);
const DAY = 24 * 3600 * 1000;

let url: string;
let admin: pg.Pool;
/** The site's port: each app (on one store or the other) listens there in turn. */
let port = 0;
before(async () => {
  url = await sharedDatabaseUrl();
  admin = new pg.Pool({ connectionString: url, max: 3 });
  admin.on('error', () => {});
});
after(async () => {
  await admin?.end();
});

/** Runs `work` against the app on connect-pg-simple (its own pool), then shuts both down. */
async function onConnectPgSimple<T>(
  table: string,
  work: (app: Awaited<ReturnType<typeof startLoginApp>>) => Promise<T>,
): Promise<T> {
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  const store = new PGStore({
    pool,
    tableName: table,
    createTableIfMissing: true,
    pruneSessionInterval: false,
  });
  const app = await startLoginApp(store, port);
  port = app.port;
  try {
    return await work(app);
  } finally {
    await app.close();
    await (store.close() as unknown as Promise<void>);
    await pool.end();
  }
}

/** Runs `work` against the same app on session-pgsql's PgsqlStore. */
async function onPgsqlStore<T>(
  table: string,
  work: (app: Awaited<ReturnType<typeof startLoginApp>>) => Promise<T>,
): Promise<T> {
  const store = new PgsqlStore({ db: url, table, gcInterval: 0 });
  const app = await startLoginApp(store, port);
  try {
    return await work(app);
  } finally {
    await app.close();
    await store.close();
  }
}

interface Visitor {
  readonly name: string;
  readonly browser: Client;
  /** What the old app answered last. */
  seen: Me;
}

const gap = (a: string | null, b: string | null) =>
  a === null || b === null
    ? a === b
      ? 0
      : Number.POSITIVE_INFINITY
    : Math.abs(Date.parse(a) - Date.parse(b));

describe('from connect-pg-simple to PgsqlStore', () => {
  const source = uniqueTable('cps_session');
  const target = uniqueTable('sessions');
  const visitors: Visitor[] = [];
  let expired: Visitor;
  let loggedOut: Visitor;
  const progress: ImportProgress[] = [];
  /** Each visitor's session expiry in connect-pg-simple's table when it was imported. */
  const oldExpiry = new Map<string, string>();

  before(async () => {
    await onConnectPgSimple(source, async (app) => {
      const logIn = async (name: string, maxAge?: string) => {
        const browser = app.client();
        const query = maxAge === undefined ? '' : `&maxAge=${maxAge}`;
        const reply = await browser.post<Me>(`/login?user=${name}${query}`);
        assert.equal(reply.status, 200);
        return { name, browser, seen: reply.body };
      };
      for (let i = 0; i < 8; i++) visitors.push(await logIn(`user${i}`));
      visitors.push(await logIn('week', String(7 * DAY)));
      visitors.push(await logIn('browser-session', 'session'));
      for (const v of visitors.slice(0, 3)) {
        const reply = await v.browser.post<Me>(`/cart?item=book-for-${v.name}`);
        v.seen = reply.body;
      }
      expired = await logIn('expired', String(3600 * 1000));
      loggedOut = await logIn('logged-out');
      assert.equal((await loggedOut.browser.post('/logout')).status, 200);
      // connect-pg-simple's row of `expired` runs out
      await admin.query(
        `UPDATE ${pg.escapeIdentifier(source)} SET expire = now() - interval '1 minute' WHERE sid = $1`,
        [expired.seen.id],
      );
      for (const v of visitors) {
        const reply = await v.browser.get<Me>('/me');
        assert.equal(reply.body.user, v.name, 'logged in on connect-pg-simple');
        v.seen = reply.body;
      }
      assert.equal((await expired.browser.get<Me>('/me')).body.user, null);
      assert.deepEqual(app.errors, []);
      // `user4` was last seen 5 hours ago (as time would have it): its row and cookie say so
      // (express-session moves a session's expiry on every request, connect-pg-simple's too)
      const early = visitors[4];
      assert.ok(early);
      const expires = Date.now() + DAY - 5 * 3600 * 1000;
      await admin.query(
        `UPDATE ${pg.escapeIdentifier(source)} SET expire = to_timestamp($2::bigint),
           sess = jsonb_set(sess::jsonb, '{cookie,expires}', to_jsonb($3::text))::json WHERE sid = $1`,
        [early.seen.id, Math.ceil(expires / 1000), new Date(expires).toISOString()],
      );
    });
    // what connect-pg-simple would have given each visitor next: its row's expiry
    for (const v of visitors) {
      const { rows } = await admin.query<{ expire: number }>(
        `SELECT extract(epoch FROM expire::timestamptz)::float8 * 1000 AS expire
         FROM ${pg.escapeIdentifier(source)} WHERE sid = $1`,
        [v.seen.id],
      );
      oldExpiry.set(v.name, new Date(rows[0]?.expire ?? 0).toISOString());
    }
    const { rows } = await admin.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${pg.escapeIdentifier(source)}`,
    );
    assert.equal(rows[0]?.n, visitors.length + 1, 'connect-pg-simple wrote its rows');
  });

  it('imports every live session in batches, with progress, and leaves the expired one behind', async () => {
    const result = await importConnectPgSimple({
      from: url,
      table: source,
      to: { db: url, table: target },
      batchSize: 3,
      onProgress: (p) => progress.push(p),
    });
    console.log(result);
    assert.deepEqual(result, {
      batches: Math.ceil((visitors.length + 1) / 3),
      read: visitors.length + 1,
      imported: visitors.length,
      kept: 0,
      expired: 1,
      invalidIds: 0,
      unreadable: 0,
      tooLarge: 0,
    });
    assert.deepEqual(
      progress.map((p) => p.read),
      [3, 6, 9, 11],
    );
    assert.deepEqual(progress.at(-1), result);
  });

  it('stores each session under the key the store looks it up by (its SHA-256), never the id itself', async () => {
    const { rows } = await admin.query<{ sess_id: string; sess_data: string }>(
      `SELECT sess_id, sess_data FROM ${pg.escapeIdentifier(target)} ORDER BY sess_id`,
    );
    assert.deepEqual(
      rows.map((r) => r.sess_id).sort(),
      visitors.map((v) => storedKey(v.seen.id)).sort(),
    );
    // each expiry is connect-pg-simple's, to the second
    for (const v of visitors) {
      const { rows: pair } = await admin.query<{ cps: number; spg: number }>(
        `SELECT floor(extract(epoch FROM c.expire::timestamptz))::float8 AS cps,
           (SELECT sess_expire::float8 FROM ${pg.escapeIdentifier(target)} WHERE sess_id = $2) AS spg
         FROM ${pg.escapeIdentifier(source)} c WHERE c.sid = $1`,
        [v.seen.id, storedKey(v.seen.id)],
      );
      assert.equal(pair[0]?.spg, pair[0]?.cps, `${v.name}: the same expiry`);
    }
    for (const row of rows) {
      const data = JSON.parse(row.sess_data) as { cookie: Record<string, unknown> };
      assert.equal('expires' in data.cookie, false, 'the row holds the expiry, not the cookie');
      assert.equal(typeof data.cookie.httpOnly, 'boolean');
    }
  });

  it('PgsqlStore, with the same browser cookies: every user still logged in with the same data and expiry', async () => {
    await onPgsqlStore(target, async (app) => {
      for (const v of [...visitors.slice(0, 2), ...visitors.slice(3)]) {
        const reply = await v.browser.get<Me>('/me');
        assert.equal(reply.status, 200);
        assert.equal(reply.setCookie, undefined, 'no new cookie: the same session');
        assert.equal(reply.body.id, v.seen.id);
        assert.equal(reply.body.user, v.name);
        assert.deepEqual(reply.body.cart, v.seen.cart);
        assert.equal(reply.body.originalMaxAge, v.seen.originalMaxAge);
        // the same expiry, not a new lifetime (user4's is 5 hours earlier, week's 6 days later)
        const was = oldExpiry.get(v.name) ?? null;
        assert.ok(
          gap(reply.body.expires, v.seen.originalMaxAge === null ? null : was) <= 60_000,
          `${v.name}: expires ${reply.body.expires}, was ${was}`,
        );
      }
      for (const gone of [expired, loggedOut]) {
        const reply = await gone.browser.get<Me>('/me');
        assert.equal(reply.body.user, null, `${gone.name} is not logged in`);
      }
      // and the sessions go on: a change is stored, a logout works
      const [first, second] = visitors;
      assert.ok(first && second);
      first.seen = (await first.browser.post<Me>('/cart?item=after-the-switch')).body;
      assert.equal((await second.browser.post('/logout')).status, 200);
      assert.deepEqual(app.errors, []);
    });
  });

  it('run again after the old app wrote more: takes what the old app changed since, overwrites nothing session-pgsql wrote', async () => {
    const [first, second, straggler, fourth] = visitors;
    assert.ok(first && second && straggler && fourth);
    // during a rolling switch, requests still reach the old app: connect-pg-simple's rows
    // of a visitor the new app has not seen (the straggler), and of one it has (fourth)
    await onConnectPgSimple(source, async (app) => {
      straggler.seen = (await straggler.browser.post<Me>('/cart?item=on-the-old-app')).body;
      await fourth.browser.post<Me>('/cart?item=lost-on-the-old-app');
      assert.deepEqual(app.errors, []);
    });
    const again = await importConnectPgSimple({
      from: url,
      table: source,
      to: { db: url, table: target },
      batchSize: 4,
    });
    assert.deepEqual(
      { read: again.read, imported: again.imported, kept: again.kept, expired: again.expired },
      // imported: the straggler's change, and `second`, who logged out on PgsqlStore while
      // connect-pg-simple still had the row (see the README: run the import again only
      // before logouts reach the new app, or drop the old table). Kept: the rest, `first`
      // (written since by session-pgsql) and `fourth` (touched since by it) included.
      { read: visitors.length + 1, imported: 2, kept: visitors.length - 2, expired: 1 },
    );
    await onPgsqlStore(target, async (app) => {
      const firstCart = (await first.browser.get<Me>('/me')).body.cart;
      assert.deepEqual(firstCart, first.seen.cart);
      assert.ok(firstCart.includes('after-the-switch'));
      const stragglerMe = (await straggler.browser.get<Me>('/me')).body;
      assert.equal(stragglerMe.user, straggler.name, 'the straggler is logged in too');
      const stragglerCart = stragglerMe.cart;
      assert.deepEqual(stragglerCart, straggler.seen.cart);
      assert.ok(stragglerCart.includes('on-the-old-app'));
      assert.deepEqual((await fourth.browser.get<Me>('/me')).body.cart, fourth.seen.cart);
      assert.deepEqual(app.errors, []);
    });
    const third = await importConnectPgSimple({
      from: url,
      table: source,
      to: { db: url, table: target },
    });
    assert.equal(third.imported, 0, 'a third run changes nothing');
    assert.equal(third.kept, visitors.length);
  });
});
