/**
 * saveBeforeResponse: "an answer means it is stored" with express-session, which writes the
 * status and the body before its end-of-request save finishes. A save is made to fail for
 * real after the read succeeded: another transaction holds the session's row locked, so the
 * write fails with SPG_SESSION_LOCKED (lock_timeout, half of queryTimeoutMillis), or a
 * trigger refuses writes. With the guard the browser gets the error (500); without it, the
 * same request answers its success status (which proves the test can fail). The guard adds
 * no statement: each route writes as often with it as without it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import {
  type Client,
  Sql,
  startApp,
  storedKey,
  type TestApp,
  type WriteCounter,
} from '../helpers/express-app.js';
import { sharedDatabaseUrl } from '../helpers/postgres.js';

interface ErrorReply {
  code: string | null;
  message: string;
}

const url = await sharedDatabaseUrl();
const sql = new Sql(url);
after(() => sql.close());

/** Runs `action` while another transaction holds the session's row locked. */
async function whileLocked<T>(table: string, id: string, action: () => Promise<T>): Promise<T> {
  const locker = new pg.Client({ connectionString: url });
  await locker.connect();
  try {
    await locker.query('BEGIN');
    const { rowCount } = await locker.query(
      `SELECT 1 FROM ${pg.escapeIdentifier(table)} WHERE sess_id = $1 FOR UPDATE`,
      [storedKey(id)],
    );
    assert.equal(rowCount, 1, 'the row is locked');
    return await action();
  } finally {
    await locker.query('ROLLBACK');
    await locker.end();
  }
}

/** The failing requests: each changes the session, and answers as its route does. */
const routes = [
  { what: 'res.json', path: '/increment', success: 200 },
  { what: 'a redirect', path: '/redirect', success: 302 },
  { what: 'res.end() without a body', path: '/empty', success: 204 },
] as const;

for (const guard of [true, false]) {
  describe(`a save that fails, ${guard ? 'with' : 'without'} saveBeforeResponse`, () => {
    const table = `guard_${guard ? 'on' : 'off'}_failures`;
    let app: TestApp;

    before(async () => {
      app = await startApp({
        store: { db: url, table, queryTimeoutMillis: 1000 },
        session: { cookie: { maxAge: 600_000 } },
        guard,
      });
    });
    after(() => app.close());

    for (const route of routes) {
      it(`${route.what}: ${guard ? 'the error reaches the browser' : 'the browser gets its success status'}`, async () => {
        const client = app.client();
        const id = (await client.post('/increment')).body.id;
        const stored = await sql.mustRow(table, id);
        const r = await whileLocked(table, id, () => client.post<ErrorReply | string>(route.path));
        const row = await sql.mustRow(table, id);
        assert.equal(row.sess_data, stored.sess_data, 'the change was not stored');
        if (guard) {
          assert.equal(r.status, 500, 'an error, since nothing was stored');
          assert.equal((r.body as ErrorReply).code, 'SPG_SESSION_LOCKED');
          assert.equal(r.location, null, 'no redirect');
        } else {
          assert.equal(r.status, route.success, 'express-session answered before its save failed');
        }
        const after = await client.get('/session');
        assert.deepEqual(after.body.data, { counter: 1 }, 'the session as stored');
      });
    }

    it(`an unchanged session whose touch fails: ${guard ? '500' : '200'}`, async () => {
      const client = app.client();
      const id = (await client.post('/increment')).body.id;
      const r = await whileLocked(table, id, () => client.get<ErrorReply>('/session'));
      assert.equal(r.status, guard ? 500 : 200);
    });

    it(`a new session whose insert a trigger refuses: ${guard ? '500' : '200'}`, async () => {
      const fn = pg.escapeIdentifier(`${table}_refuse`);
      await sql.query(`CREATE OR REPLACE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'inserts refused by the test'; END $$`);
      await sql.query(`CREATE TRIGGER refuse BEFORE INSERT ON ${pg.escapeIdentifier(table)}
        FOR EACH ROW EXECUTE FUNCTION ${fn}()`);
      try {
        const r = await app.client().post<ErrorReply>('/increment');
        assert.equal(r.status, guard ? 500 : 200);
        if (guard) assert.equal(r.body.code, 'SPG_DB_QUERY_FAILED');
      } finally {
        await sql.query(`DROP TRIGGER refuse ON ${pg.escapeIdentifier(table)}`);
      }
    });

    it('after a failed save, the error answer does not store the change', async () => {
      const client = app.client();
      const id = (await client.post('/increment')).body.id;
      const before = await sql.mustRow(table, id);
      // the next UPDATE fails, the ones after it work (a sequence is not rolled back)
      const [seq, fn] = [`${table}_once`, `${table}_refuse_once`].map(pg.escapeIdentifier);
      await sql.query(`CREATE SEQUENCE ${seq}`);
      await sql.query(`CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF nextval('${table}_once') = 1 THEN RAISE EXCEPTION 'refused once'; END IF;
        RETURN NEW; END $$`);
      await sql.query(`CREATE TRIGGER refuse_once BEFORE UPDATE ON ${pg.escapeIdentifier(table)}
        FOR EACH ROW EXECUTE FUNCTION ${fn}()`);
      try {
        const r = await client.post<ErrorReply>('/increment');
        assert.equal(r.status, guard ? 500 : 200);
      } finally {
        await sql.query(`DROP TRIGGER refuse_once ON ${pg.escapeIdentifier(table)}`);
      }
      // with the guard, express-session's save (or touch) after the error answer would work
      const row = await sql.mustRow(table, id);
      assert.equal(row.sess_data, before.sess_data, 'an error answer: nothing stored');
      if (guard) assert.equal(row.sess_counter, before.sess_counter, 'not even a touch');
    });
  });
}

describe('saveBeforeResponse adds no statement', () => {
  const apps = new Map<string, { app: TestApp; writes: WriteCounter }>();

  before(async () => {
    for (const shortCircuit of [false, true]) {
      for (const guard of [false, true]) {
        const table = `guard_count_${shortCircuit ? 'sc' : 'plain'}_${guard ? 'on' : 'off'}`;
        const app = await startApp({
          store: { db: url, table, shortCircuit },
          session: { cookie: { maxAge: 600_000 }, rolling: true },
          guard,
        });
        apps.set(`${shortCircuit}/${guard}`, { app, writes: await sql.countWrites(table) });
      }
    }
  });
  after(async () => {
    for (const { app } of apps.values()) await app.close();
  });

  /** The writes of a scenario in one app, counted by the trigger. */
  async function writesOf(
    key: string,
    scenario: (client: Client) => Promise<unknown>,
  ): Promise<number> {
    const entry = apps.get(key);
    assert.ok(entry);
    const client = entry.app.client();
    const before = await entry.writes.count();
    await scenario(client);
    assert.deepEqual(entry.app.errors, []);
    return (await entry.writes.count()) - before;
  }

  const scenarios: Record<string, (client: Client) => Promise<unknown>> = {
    'a new session with data': (c) => c.post('/increment'),
    'a change, then read-only requests': async (c) => {
      await c.post('/increment');
      await c.post('/increment');
      await c.get('/session');
      await c.get('/session');
    },
    'a redirect and an empty answer': async (c) => {
      await c.post('/redirect');
      await c.post('/empty');
    },
    'a regenerate': async (c) => {
      await c.post('/increment');
      await c.post('/regenerate');
      await c.get('/session');
    },
    'metadata only': async (c) => {
      await c.post('/increment');
      await c.post('/field?value=x');
      await c.post('/error?level=notice');
    },
    'a logout': async (c) => {
      await c.post('/increment');
      await c.post('/logout');
    },
  };

  for (const shortCircuit of [false, true]) {
    for (const [name, scenario] of Object.entries(scenarios)) {
      it(`${name} (shortCircuit ${shortCircuit}): as many writes as without the guard`, async () => {
        const without = await writesOf(`${shortCircuit}/false`, scenario);
        const withGuard = await writesOf(`${shortCircuit}/true`, scenario);
        assert.equal(withGuard, without);
      });
    }
  }

  it('what the guard stored is what express-session would have stored', async () => {
    const [plain, guarded] = [apps.get('false/false'), apps.get('false/true')];
    assert.ok(plain && guarded);
    const ids: string[] = [];
    for (const { app } of [plain, guarded]) {
      const client = app.client();
      await client.post('/set?key=basket&value=apples');
      await client.post('/redirect');
      ids.push(client.sessionId ?? '');
    }
    const [a, b] = await Promise.all([
      sql.data('guard_count_plain_off', ids[0] ?? ''),
      sql.data('guard_count_plain_on', ids[1] ?? ''),
    ]);
    assert.deepEqual(b, a);
    assert.deepEqual(b.counter, 1);
  });
});
