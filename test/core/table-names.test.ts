/**
 * Table names at PostgreSQL's limits: 63 bytes (not characters) per part, and long names
 * that share a start each get their own expiry index. A table dropped while the store runs
 * is created again.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionPgsql } from '../../src/index.js';
import { type Data, newId, quoted, useTestDatabase } from './fixtures.js';

const db = useTestDatabase();

async function indexesOf(table: string): Promise<string[]> {
  const { rows } = await db.admin.query<{ name: string }>(
    `SELECT indexname AS name FROM pg_indexes WHERE tablename = $1 AND indexdef LIKE '%(sess_expire)%'`,
    [table],
  );
  return rows.map((row) => row.name);
}

describe('table names', () => {
  it('a part over 63 bytes is refused, however few its characters', () => {
    assert.throws(() => new SessionPgsql({ db: db.url, table: 'é'.repeat(32) }), {
      code: 'SPG_INVALID_OPTION',
      message: /63 bytes/,
    });
  });

  it('two long names sharing their first 50 characters each get an expiry index', async () => {
    const start = `long_${process.pid}_`.padEnd(50, 'x');
    const names = [`${start}_first_table`, `${start}_second_table`];
    for (const table of names) {
      const store = db.stores.open<Data>({ db: db.url, table, gcInterval: 0 });
      await store.write(newId(), { in: table });
    }
    const [first = [], second = []] = await Promise.all(names.map(indexesOf));
    assert.equal(first.length, 1);
    assert.equal(second.length, 1);
    assert.notEqual(first[0], second[0]);
  });

  it('a table dropped at run time is created again by the next write', async () => {
    const table = `dropped_${process.pid}`;
    const store = db.stores.open<Data>({ db: db.url, table, gcInterval: 0 });
    await store.write(newId(), { before: 'drop' });
    await db.admin.query(`DROP TABLE ${quoted(table)}`);
    const id = newId();
    await store.write(id, { after: 'drop' });
    assert.deepEqual((await store.read(id))?.data, { after: 'drop' });
    assert.equal((await indexesOf(table)).length, 1);
  });
});
