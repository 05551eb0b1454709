/**
 * A process that opens a store on a table that may not exist yet, waits for a line on
 * stdin (so that every process runs its first statement at the same moment), then
 * writes and reads one session and prints the outcome as one JSON line.
 * Its pool is connected beforehand, so that no connection set-up spreads the processes apart.
 * Usage: start-store.ts <db url> <table>
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import pg from 'pg';
import { SessionPgsql, SessionPgsqlError } from '../../../src/index.js';

const [db, table] = process.argv.slice(2);
if (db === undefined || table === undefined) throw new Error('usage: start-store.ts <db> <table>');
const pool = new pg.Pool({ connectionString: db, max: 2 });
(await pool.connect()).release();
const store = new SessionPgsql<{ pid: number }>({ db: pool, table, gcInterval: 0 });
const lines = createInterface({ input: process.stdin });
console.log('ready');
await once(lines, 'line');
lines.close();
const id = randomBytes(24).toString('base64url');
try {
  await store.write(id, { pid: process.pid });
  const loaded = await store.read(id);
  console.log(JSON.stringify({ ok: true, pid: process.pid, data: loaded?.data ?? null }));
} catch (error) {
  const code = error instanceof SessionPgsqlError ? error.code : 'other';
  console.log(JSON.stringify({ ok: false, code, message: String(error) }));
} finally {
  await store.close();
  await pool.end();
}
