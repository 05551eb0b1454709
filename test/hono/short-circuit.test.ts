/**
 * The short circuit under the Hono middleware, counted in PostgreSQL (a statement-level
 * trigger logs every writing statement on the session table) and in the store's own
 * status(). The middleware compares the session with what it read: an unchanged session
 * without `rolling` costs nothing at all; with `rolling` it is touched, which the short
 * circuit skips while the stored expiry is within the window, then writes once. A change
 * is one write.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '../helpers/cookie-client.js';
import { type HonoTestApp, startHonoApp } from '../helpers/hono-app.js';
import { sharedDatabaseUrl } from '../helpers/postgres.js';
import { assertNear, Sql, storeWrites, type WriteCounter } from '../helpers/session-sql.js';

const LIFETIME = 600; // seconds: the middleware's ttl
const FRACTION = 0.1; // touchAfterFraction: the expiry is rewritten once 60 s of it have passed

const url = await sharedDatabaseUrl();
const sql = new Sql(url);
after(() => sql.close());

for (const shortCircuit of [true, false]) {
  for (const rolling of [true, false]) {
    describe(`shortCircuit=${shortCircuit}, rolling=${rolling}`, () => {
      const table = `hono_short_${shortCircuit ? 'on' : 'off'}_rolling_${rolling}`;
      let app: HonoTestApp;
      let writes: WriteCounter;
      let client: Client;
      let id: string;

      before(async () => {
        app = await startHonoApp({
          store: { db: url, table, shortCircuit, touchAfterFraction: FRACTION },
          session: { rolling, ttl: LIFETIME },
        });
        writes = await sql.countWrites(table);
        client = app.client();
        const r = await client.post('/set?key=basket&value=apples');
        assert.ok(r.setId);
        id = r.setId;
      });
      after(() => app.close());

      /** Writing statements during `action`, counted by the trigger and by status(). */
      async function writesDuring(action: () => Promise<unknown>): Promise<number> {
        const [inDb, inStore] = [await writes.count(), await storeWrites({ core: app.store })];
        await action();
        const [inDbAfter, inStoreAfter] = [
          await writes.count(),
          await storeWrites({ core: app.store }),
        ];
        assert.equal(inDbAfter - inDb, inStoreAfter - inStore, 'trigger and status() agree');
        return inDbAfter - inDb;
      }

      async function readOnly(): Promise<void> {
        const data = await sql.data(table, id);
        const r = await client.get('/session');
        assert.equal(r.status, 200);
        assert.equal(r.body.id, id);
        assert.deepEqual(r.body.data, data);
        if (!rolling) {
          assert.equal(
            r.setCookie,
            undefined,
            'rolling: false: no cookie for an unchanged session',
          );
          return;
        }
        assert.ok(r.cookieExpires, 'rolling: the cookie is refreshed on every response');
        // the stored expiry never falls behind the cookie's by more than the window
        const stored = (await sql.mustRow(table, id)).sess_expire;
        const behind = r.cookieExpires.getTime() / 1000 - stored;
        assert.ok(behind <= LIFETIME * FRACTION + 2, `stored expiry ${behind} s behind`);
      }

      it('the trigger counts the store writes (a modifying request: one)', async () => {
        assert.equal(await writesDuring(() => client.post('/increment')), 1);
        assert.equal((await sql.data(table, id)).counter, 1);
      });

      it('setting a field to the value it has is no change', async () => {
        const expected = rolling && !shortCircuit ? 1 : 0; // rolling without it: a touch
        const same = () => client.post('/set?key=basket&value=apples');
        assert.equal(await writesDuring(same), expected);
      });

      if (!rolling) {
        it('read-only requests write nothing, also past the window', async () => {
          const stored = await sql.mustRow(table, id);
          assert.equal(await writesDuring(() => Promise.all([readOnly(), readOnly()])), 0);
          await sql.shiftExpiry(table, id, -120); // past the window: still nothing is written
          assert.equal(await writesDuring(readOnly), 0);
          assert.equal((await sql.mustRow(table, id)).sess_counter, stored.sess_counter);
        });
      } else if (shortCircuit) {
        it('read-only requests inside the window make zero writes, though each one touches', async () => {
          const stored = await sql.mustRow(table, id);
          assert.equal(await writesDuring(() => Promise.all([readOnly(), readOnly()])), 0);
          assert.equal(await writesDuring(readOnly), 0);
          await sql.shiftExpiry(table, id, -30); // still inside: 30 of the 60 seconds have passed
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
          assert.equal(await writesDuring(readOnly), 0, 'then inside the window again');
        });
      } else {
        it('each read-only request makes one write (a touch)', async () => {
          assert.equal(await writesDuring(readOnly), 1);
          assert.equal(await writesDuring(readOnly), 1);
          assert.equal(await writesDuring(() => Promise.all([readOnly(), readOnly()])), 2);
        });
      }

      it('a metadata change alone is one write', async () => {
        assert.equal(await writesDuring(() => client.post('/field?value=vip')), 1);
        assert.equal((await sql.mustRow(table, id)).sess_custom, 'vip');
      });

      it('a modifying request still writes, and its change is kept', async () => {
        assert.equal(await writesDuring(() => client.post('/set?key=other&value=x')), 1);
        assert.equal((await sql.data(table, id)).other, 'x');
        assert.deepEqual(app.errors, []);
      });

      it('a new visitor: nothing stored while its session is empty, one write once it is not', async () => {
        const visitor = app.client();
        assert.equal(await writesDuring(() => visitor.get('/session')), 0);
        assert.equal(visitor.sessionId, undefined);
        assert.equal(await writesDuring(() => visitor.post('/increment')), 1);
        assert.ok(visitor.sessionId);
        assert.ok(await sql.row(table, visitor.sessionId));
      });
    });
  }
}
