/**
 * The short circuit, counted in PostgreSQL (a statement-level trigger logs every writing
 * statement on the session table) and in the store's own status(): with `shortCircuit`, a
 * read-only request inside the window writes nothing, whether express-session calls touch
 * (resave false) or set with unchanged data (resave true); past the window it writes the
 * expiry once. Without it, every read-only request writes once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  assertNear,
  type Client,
  Sql,
  startApp,
  storeWrites,
  type TestApp,
  type WriteCounter,
} from '../helpers/express-app.js';
import { sharedDatabaseUrl } from '../helpers/postgres.js';

const LIFETIME = 600; // seconds: cookie maxAge
const FRACTION = 0.1; // touchAfterFraction: the expiry is rewritten once 60 s of it have passed

const url = await sharedDatabaseUrl();
const sql = new Sql(url);
after(() => sql.close());

for (const shortCircuit of [true, false]) {
  for (const resave of [false, true]) {
    describe(`shortCircuit=${shortCircuit}, resave=${resave}`, () => {
      const table = `short_${shortCircuit ? 'on' : 'off'}_resave_${resave}`;
      let app: TestApp;
      let writes: WriteCounter;
      let client: Client;
      let id: string;

      before(async () => {
        app = await startApp({
          store: { db: url, table, shortCircuit, touchAfterFraction: FRACTION, gcInterval: 0 },
          session: { resave, rolling: true, cookie: { maxAge: LIFETIME * 1000 } },
        });
        writes = await sql.countWrites(table);
        client = app.client();
        const r = await client.post('/increment');
        assert.ok(r.setId);
        id = r.setId;
      });
      after(() => app.close());

      /** Writing statements during `action`, counted by the trigger and by status(). */
      async function writesDuring(action: () => Promise<unknown>): Promise<number> {
        const [inDb, inStore] = [await writes.count(), await storeWrites(app.store)];
        await action();
        const [inDbAfter, inStoreAfter] = [await writes.count(), await storeWrites(app.store)];
        assert.equal(inDbAfter - inDb, inStoreAfter - inStore, 'trigger and status() agree');
        return inDbAfter - inDb;
      }

      async function readOnly(): Promise<void> {
        const { cookie: _cookie, ...data } = await sql.data(table, id);
        const r = await client.get('/session');
        assert.equal(r.body.id, id);
        assert.deepEqual(r.body.data, data);
        assert.ok(r.cookieExpires, 'rolling: the cookie is refreshed on every response');
        // the stored expiry never falls behind the cookie's by more than the window
        const stored = (await sql.mustRow(table, id)).sess_expire;
        const behind = r.cookieExpires.getTime() / 1000 - stored;
        assert.ok(behind <= LIFETIME * FRACTION + 2, `stored expiry ${behind} s behind`);
      }

      it('the trigger counts the store writes (a modifying request: one)', async () => {
        assert.equal(await writesDuring(() => client.post('/increment')), 1);
        assert.equal((await sql.data(table, id)).counter, 2);
      });

      if (shortCircuit) {
        it('read-only requests inside the window make zero writes', async () => {
          const stored = await sql.mustRow(table, id);
          assert.equal(await writesDuring(() => Promise.all([readOnly(), readOnly()])), 0);
          assert.equal(await writesDuring(readOnly), 0);
          // still inside: 30 of the 60 seconds have passed
          await sql.shiftExpiry(table, id, -30);
          assert.equal(await writesDuring(readOnly), 0);
          const row = await sql.mustRow(table, id);
          assert.equal(row.sess_counter, stored.sess_counter, 'not even the counter');
          assert.equal(row.sess_data, stored.sess_data);
        });

        it('past the window a read-only request writes the expiry once', async () => {
          await sql.shiftExpiry(table, id, -120); // 480 of 600 s left: under 540
          const stored = await sql.mustRow(table, id);
          assert.equal(await writesDuring(readOnly), 1);
          const row = await sql.mustRow(table, id);
          assertNear(row.sess_expire - (await sql.now()), LIFETIME, 2, 'expiry rewritten');
          assert.equal(row.sess_data, stored.sess_data);
          assert.equal(row.sess_counter, stored.sess_counter + 1);
          assert.equal(await writesDuring(readOnly), 0, 'then inside the window again');
        });

        it("express-session's millisecond drift of cookie.originalMaxAge is no change", async () => {
          const store = app.store;
          const data = await promisify(store.get.bind(store))(id);
          assert.ok(data);
          const read = data.cookie.originalMaxAge as number;
          const session = store.createSession({ sessionID: id } as never, data);
          // what express-session does with rolling: maxAge set from the clock, a tick later
          session.cookie.maxAge = read - 2;
          assert.notEqual(session.cookie.originalMaxAge, read);
          const save = promisify(store.set.bind(store));
          assert.equal(await writesDuring(() => save(id, session)), 0);
        });
      } else {
        it('each read-only request makes one write', async () => {
          assert.equal(await writesDuring(readOnly), 1);
          assert.equal(await writesDuring(readOnly), 1);
          assert.equal(await writesDuring(() => Promise.all([readOnly(), readOnly()])), 2);
        });
      }

      it('a modifying request still writes, and its change is kept', async () => {
        assert.equal(await writesDuring(() => client.post('/set?key=other&value=x')), 1);
        assert.equal((await sql.data(table, id)).other, 'x');
        assert.deepEqual(app.errors, []);
      });
    });
  }
}
