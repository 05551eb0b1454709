/**
 * Two app servers with clocks a day apart, for real: the other one runs under libfaketime
 * (Debian's `faketime`, which CI installs; missing, the test fails and says so). Expiry is
 * decided by the database's clock, so both agree on every session.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  type Data,
  databaseNow,
  expireInDatabase,
  newId,
  storedKey,
  uniqueTable,
  useTestDatabase,
} from '../core/fixtures.js';
import { reportFault } from './fault-report.js';

const run = promisify(execFile);
const FAKETIME = '/usr/bin/faketime';
const app = fileURLToPath(new URL('./workers/clock-skewed-app.ts', import.meta.url));
const DAY_MILLIS = 86_400_000;

const db = useTestDatabase();

interface Seen {
  clock: number;
  data: { by: string } | null;
  expires: number | null;
}

/** Runs the app under a clock `offset` from the real one (`+1d`, `-1d`). */
async function skewedApp(offset: string, table: string, action: string, id: string): Promise<Seen> {
  const { stdout } = await run(
    FAKETIME,
    ['-f', offset, process.execPath, '--import', 'tsx', app, db.url, table, action, id],
    { timeout: 60_000 },
  );
  return JSON.parse(stdout.trim().split('\n').pop() ?? '') as Seen;
}

describe('app servers with skewed clocks (libfaketime)', () => {
  it('agree on every session: the database clock decides expiry', async (t) => {
    assert.ok(existsSync(FAKETIME), `${FAKETIME} is missing: apt-get install faketime`);
    const table = uniqueTable();
    const here = db.stores.open<Data>({ db: db.url, table, gcInterval: 0 });
    await here.length(); // creates the table
    const id = newId();
    const ahead = await skewedApp('+1d', table, 'write', id);
    assert.ok(ahead.clock - Date.now() > DAY_MILLIS - 120_000, 'the app really ran a day ahead');
    assert.deepEqual(ahead.data, { by: 'skewed' });
    // its 60 s lifetime counts from the database's now, not from its clock
    const dbNow = (await databaseNow(db.admin)) * 1000;
    assert.ok(Math.abs((ahead.expires ?? 0) - (dbNow + 60_000)) < 5_000);
    assert.deepEqual((await here.read(id))?.data, { by: 'skewed' });
    const behind = await skewedApp('-1d', table, 'read', id);
    assert.ok(Date.now() - behind.clock > DAY_MILLIS - 120_000, 'a day behind');
    assert.deepEqual(behind.data, { by: 'skewed' });
    // expired by the database's clock: gone for all of them, whatever their clocks say
    await expireInDatabase(db.admin, table, storedKey(id), { secondsAgo: 1 });
    assert.equal(await here.read(id), undefined);
    assert.equal((await skewedApp('-1d', table, 'read', id)).data, null);
    assert.equal((await skewedApp('+1d', table, 'read', id)).data, null);
    reportFault(t, import.meta.url, {
      fault: 'App servers with skewed clocks',
      done: 'app servers a day ahead and a day behind (libfaketime) write and read one session',
      held: "all agree: the lifetime counts from the database's clock, and expiry is the same for all",
      sessions: 1,
      lost: 0,
      failed: 0,
    });
  });
});
