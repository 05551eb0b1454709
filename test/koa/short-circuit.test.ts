/**
 * The short circuit under koa-session, counted in PostgreSQL (a statement-level trigger logs
 * every writing statement on the session table) and in the store's own status(). koa-session
 * saves an unchanged session with `rolling: true` on every response, and with `renew: true`
 * once less than half of its lifetime is left (by `_expire`, which the store takes from the
 * row's expiry); it hands the store `changed: false` then, and the store only touches it.
 * With `shortCircuit`, such a save inside the window writes nothing, and past it writes the
 * expiry once (a touch, not a rewrite of the data). Without `shortCircuit`, every save
 * writes. Without either option koa-session does not save an unchanged session at all.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Client } from '../helpers/cookie-client.js';
import { type KoaTestApp, startKoaApp } from '../helpers/koa-app.js';
import { sharedDatabaseUrl } from '../helpers/postgres.js';
import {
  assertNear,
  Sql,
  statementCounts,
  storeWrites,
  type WriteCounter,
} from '../helpers/session-sql.js';

const LIFETIME = 600; // seconds: koa-session's maxAge
const FRACTION = 0.1; // touchAfterFraction: the expiry is rewritten once 60 s of it have passed

const url = await sharedDatabaseUrl();
const sql = new Sql(url);
after(() => sql.close());

type Saving = 'changes only' | 'rolling' | 'renew';

for (const shortCircuit of [true, false]) {
  for (const saving of ['changes only', 'rolling', 'renew'] as Saving[]) {
    describe(`shortCircuit=${shortCircuit}, koa-session saves ${saving}`, () => {
      const table = `koa_short_${shortCircuit ? 'on' : 'off'}_${saving.replace(' ', '_')}`;
      let app: KoaTestApp;
      let writes: WriteCounter;
      let client: Client;
      let id: string;

      before(async () => {
        app = await startKoaApp({
          store: { db: url, table, shortCircuit, touchAfterFraction: FRACTION },
          session: {
            maxAge: LIFETIME * 1000,
            rolling: saving === 'rolling',
            renew: saving === 'renew',
          },
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
        const { _maxAge: _lifetime, ...data } = await sql.data(table, id);
        const r = await client.get('/session');
        assert.equal(r.status, 200);
        assert.equal(r.body.id, id);
        assert.deepEqual(r.body.data, data);
        if (saving !== 'rolling') return;
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

      if (saving === 'changes only') {
        it('read-only requests save nothing: koa-session does not call the store', async () => {
          const stored = await sql.mustRow(table, id);
          assert.equal(await writesDuring(() => Promise.all([readOnly(), readOnly()])), 0);
          await sql.shiftExpiry(table, id, -LIFETIME / 2 - 60); // past renew's half: still nothing
          assert.equal(await writesDuring(readOnly), 0);
          assert.equal((await sql.mustRow(table, id)).sess_counter, stored.sess_counter);
        });
      } else if (saving === 'renew') {
        it("renew: nothing while more than half is left, then one touch, by the row's expiry", async () => {
          const stored = await sql.mustRow(table, id);
          assert.equal(await writesDuring(() => Promise.all([readOnly(), readOnly()])), 0);
          await sql.shiftExpiry(table, id, -LIFETIME / 2 + 60); // 360 of 600 s left
          assert.equal(await writesDuring(readOnly), 0, 'koa-session does not renew yet');
          await sql.shiftExpiry(table, id, -120); // 240 left: under half
          const touches = (await statementCounts(app.store)).touch ?? 0;
          assert.equal(await writesDuring(readOnly), 1, 'renewed');
          assert.equal((await statementCounts(app.store)).touch, touches + 1, 'a touch');
          const row = await sql.mustRow(table, id);
          assertNear(row.sess_expire - (await sql.now()), LIFETIME, 2, 'expiry rewritten');
          assert.equal(row.sess_data, stored.sess_data);
          assert.equal(await writesDuring(readOnly), 0, 'then more than half is left again');
        });
      } else if (shortCircuit) {
        it('read-only requests inside the window make zero writes, though each one saves', async () => {
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

        it('past the window a read-only request writes the expiry once (a touch)', async () => {
          await sql.shiftExpiry(table, id, -120); // 480 of 600 s left: under 540
          const stored = await sql.mustRow(table, id);
          const touches = (await statementCounts(app.store)).touch ?? 0;
          assert.equal(await writesDuring(readOnly), 1);
          assert.equal((await statementCounts(app.store)).touch, touches + 1, 'a touch');
          const row = await sql.mustRow(table, id);
          assertNear(row.sess_expire - (await sql.now()), LIFETIME, 2, 'expiry rewritten');
          assert.equal(row.sess_data, stored.sess_data);
          assert.equal(row.sess_counter, stored.sess_counter + 1);
          assert.equal(await writesDuring(readOnly), 0, 'then inside the window again');
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

      it('a new visitor whose session stays empty is not stored', async () => {
        const visitor = app.client();
        assert.equal(await writesDuring(() => visitor.get('/session')), 0);
        assert.equal(visitor.sessionId, undefined, 'no cookie');
        assert.equal(await writesDuring(() => visitor.post('/increment')), 1);
        assert.ok(visitor.sessionId);
        assert.ok(await sql.row(table, visitor.sessionId));
      });
    });
  }
}
