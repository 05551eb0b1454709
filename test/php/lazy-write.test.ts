/**
 * session.lazy_write and the short circuit, counted in PostgreSQL itself (a statement-level
 * trigger): PHP's updateTimestamp() on an unchanged session writes nothing while the stored
 * expiry is within `touchAfterFraction` of the lifetime, and touches it (expiry, counter,
 * address) once that much has passed; the same rule as the Node store's.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { storedKey, storedRow, uniqueTable, useTestDatabase } from '../core/fixtures.js';
import { Sql } from '../helpers/express-app.js';
import { phpOk } from '../helpers/php-session.js';

const db = useTestDatabase();
/** A lifetime of 1000 s: the short circuit's window is 100 s (touchAfterFraction 0.1). */
const INI = { 'session.gc_maxlifetime': 1000 };
let sql: Sql;

async function row(table: string, id: string) {
  const found = await storedRow(db.admin, table, storedKey(id));
  assert.ok(found, `a row for ${id}`);
  return found;
}

describe('PHP lazy timestamp updates', () => {
  before(() => {
    sql = new Sql(db.url);
  });
  after(() => sql.close());

  it('with shortCircuit: no write for an unchanged session within the window, a timestamp update after it', async () => {
    const table = uniqueTable('lazy');
    const options = { db: db.url, table, gcInterval: 0, shortCircuit: true };
    const { id } = await phpOk({ options, ini: INI, steps: [['start'], ['set', 'a', 1]] });
    const writes = await sql.countWrites(table);
    const created = await row(table, id);

    // lazy_write (PHP's default): PHP calls updateTimestamp(), which writes nothing
    await phpOk({ options, ini: INI, id, steps: [['start']] });
    // without lazy_write PHP calls write() with the same data: nothing either
    await phpOk({ options, ini: { ...INI, 'session.lazy_write': 0 }, id, steps: [['start']] });
    assert.equal(await writes.count(), 0, 'no statement wrote to the table');
    assert.deepEqual(await row(table, id), created, 'the row is as written');

    // 150 s later (more than 10% of the lifetime): the unchanged session is touched once
    await sql.shiftExpiry(table, id, -150); // itself an UPDATE the trigger counts
    const shifted = await row(table, id);
    await phpOk({
      options,
      ini: INI,
      id,
      server: { REMOTE_ADDR: '192.0.2.1' },
      steps: [['start']],
    });
    assert.equal(await writes.count(), 2, 'one timestamp update');
    const touched = await row(table, id);
    assert.equal(touched.sess_counter, 2);
    assert.equal(touched.sess_expire, touched.sess_modified + 1000, 'a whole lifetime again');
    assert.ok(touched.sess_modified >= shifted.sess_modified + 150);
    assert.equal(touched.sess_addr_modified, '192.0.2.1');
    assert.equal(touched.sess_data, 'a|i:1;');

    // then nothing again, until a change: a change is always written
    await phpOk({ options, ini: INI, id, steps: [['start']] });
    assert.equal(await writes.count(), 2);
    await phpOk({ options, ini: INI, id, steps: [['start'], ['set', 'a', 2]] });
    assert.equal(await writes.count(), 3);
    assert.equal((await row(table, id)).sess_data, 'a|i:2;');
  });

  it('without shortCircuit (the default): every request touches an unchanged session, as session_pgsql did', async () => {
    const table = uniqueTable('lazy');
    const options = { db: db.url, table, gcInterval: 0 };
    const { id } = await phpOk({ options, ini: INI, steps: [['start'], ['set', 'a', 1]] });
    const writes = await sql.countWrites(table);
    for (let i = 0; i < 3; i++) await phpOk({ options, ini: INI, id, steps: [['start']] });
    assert.equal(await writes.count(), 3);
    const touched = await row(table, id);
    assert.equal(touched.sess_counter, 4);
    assert.equal(touched.sess_data, 'a|i:1;', 'a touch never rewrites the data');
  });

  it('a session read and left untouched (session_abort, read_and_close) is not written at all', async () => {
    const table = uniqueTable('lazy');
    const options = { db: db.url, table, gcInterval: 0 };
    const { id } = await phpOk({ options, ini: INI, steps: [['start'], ['set', 'a', 1]] });
    const writes = await sql.countWrites(table);
    await phpOk({ options, ini: INI, id, steps: [['start'], ['set', 'a', 2], ['abort']] });
    assert.equal(await writes.count(), 0);
    assert.equal((await row(table, id)).sess_data, 'a|i:1;');
  });
});
