import assert from 'node:assert/strict';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import type pg from 'pg';
import type { SessionPgsql, SessionPgsqlOptions } from '../../src/index.js';
import {
  type Data,
  newId,
  quoted,
  storedKey,
  storedRow,
  storeTracker,
  uniqueTable,
  useSharedDatabase,
} from './fixtures.js';

const stores = storeTracker();
let url: string;
let admin: pg.Pool;
useSharedDatabase(stores, (u, a) => {
  url = u;
  admin = a;
});

/** Statements of each kind the store's (only) server has run. */
async function statements(store: SessionPgsql<Data>): Promise<Record<string, number>> {
  return { ...(await store.status()).servers[0]?.statements };
}

function ran(before: Record<string, number>, after: Record<string, number>, kind: string): number {
  return (after[kind] ?? 0) - (before[kind] ?? 0);
}

let pgliteTemplate: Promise<string> | undefined;
after(async () => {
  if (pgliteTemplate) await rm(await pgliteTemplate, { recursive: true, force: true });
});

/**
 * A new embeddedDir holding a fresh embedded database: a copy of one made once for this
 * file (creating one takes PGlite seconds of CPU; copying it, a fraction of one).
 * test/core/embedded.test.ts is where the store creates one in an empty folder.
 */
async function freshEmbeddedDir(): Promise<string> {
  pgliteTemplate ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'session-pgsql-batch-template-'));
    await (await PGlite.create(dir)).close();
    return dir;
  })();
  const dir = await mkdtemp(join(tmpdir(), 'session-pgsql-batch-'));
  await cp(await pgliteTemplate, dir, { recursive: true });
  return dir;
}

/** The same behaviours on a PostgreSQL server and on the embedded PGlite. */
const backends: { name: string; options: () => Promise<SessionPgsqlOptions<Data>> }[] = [
  { name: 'PostgreSQL', options: async () => ({ db: url, table: uniqueTable('batch') }) },
  { name: 'embedded PGlite', options: async () => ({ embeddedDir: await freshEmbeddedDir() }) },
];

for (const backend of backends) {
  describe(`calls made in one turn of the event loop share one statement (${backend.name})`, () => {
    const open = async (extra: SessionPgsqlOptions<Data> = {}) => {
      const options = await backend.options();
      const store = stores.open<Data>({ gcInterval: 0, ...options, ...extra });
      if (options.embeddedDir) {
        const dir = options.embeddedDir;
        const close = store.close.bind(store);
        store.close = async () => {
          await close();
          await rm(dir, { recursive: true, force: true });
        };
      }
      return store;
    };

    it('reads: each caller gets its own session, missing ones nothing', async () => {
      const store = await open();
      const ids = Array.from({ length: 30 }, newId);
      await Promise.all(ids.map((id, n) => store.write(id, { n })));
      const before = await statements(store);
      const unknown = Array.from({ length: 5 }, newId);
      const loaded = await Promise.all(
        [...ids, ids[0] as string, ...unknown].map((id) => store.read(id)),
      );
      const after = await statements(store);

      assert.deepEqual(
        loaded.map((l) => l?.data),
        [...ids.map((_, n) => ({ n })), { n: 0 }, ...unknown.map(() => undefined)],
      );
      assert.equal(ran(before, after, 'readMany'), 1, 'one statement for the 36 reads');
      assert.equal(ran(before, after, 'read'), 0);
    });

    it('touches: one statement; a session touched twice in one turn counts two accesses', async () => {
      const store = await open({ shortCircuit: false });
      const ids = Array.from({ length: 20 }, newId);
      await Promise.all(ids.map((id) => store.write(id, { n: 1 })));
      const before = await statements(store);
      const touched = await Promise.all([...ids, ids[0] as string].map((id) => store.touch(id)));
      const after = await statements(store);

      assert.deepEqual(touched, Array(21).fill(true));
      assert.equal(ran(before, after, 'touchMany'), 1);
      // the second touch of ids[0] cannot join the first one's UPDATE (it would count once)
      assert.equal(ran(before, after, 'touch'), 1);
      const accesses = await Promise.all(
        ids.map(async (id) => (await store.read(id))?.state.info().accesses),
      );
      assert.deepEqual(accesses, [3, ...Array(19).fill(2)]);
      assert.equal(await store.touch(newId()), false, 'a missing session is not touched');
    });

    it('updates: one statement; a session another writer changed meanwhile is merged, not overwritten', async () => {
      const store = await open();
      const ids = Array.from({ length: 10 }, newId);
      await Promise.all(ids.map((id) => store.write(id, { n: 0 })));
      const loaded = await Promise.all(ids.map((id) => store.read(id)));
      // another request changes the first session after it was read
      const other = await store.read(ids[0] as string);
      await store.write(ids[0] as string, { n: 0, theirs: true }, { state: other?.state });

      const before = await statements(store);
      await Promise.all(
        ids.map((id, n) => store.write(id, { n: n + 1 }, { state: loaded[n]?.state })),
      );
      const after = await statements(store);

      assert.equal(ran(before, after, 'updateMany'), 1);
      const now = await Promise.all(ids.map(async (id) => (await store.read(id))?.data));
      assert.deepEqual(now, [
        { n: 1, theirs: true },
        ...ids.slice(1).map((_, n) => ({ n: n + 2 })),
      ]);
    });
  });
}

describe('batchMaxSessions', () => {
  it('caps the sessions per statement; 1 sends every call alone', async () => {
    for (const [most, readMany, read] of [
      [4, 3, 0], // 10 reads: 4 + 4 + 2
      [1, 0, 10],
    ] as const) {
      const store = stores.open<Data>({
        db: url,
        table: uniqueTable('most'),
        gcInterval: 0,
        batchMaxSessions: most,
      });
      const ids = Array.from({ length: 10 }, newId);
      await Promise.all(ids.map((id, n) => store.write(id, { n })));
      const before = await statements(store);
      const loaded = await Promise.all(ids.map((id) => store.read(id)));
      const after = await statements(store);
      assert.deepEqual(
        loaded.map((l) => l?.data),
        ids.map((_, n) => ({ n })),
      );
      assert.equal(ran(before, after, 'readMany'), readMany);
      assert.equal(ran(before, after, 'read'), read);
    }
  });
});

describe('batched statements and row locks', () => {
  it('a deadlock with another transaction aborts the batch, which runs again and succeeds', async () => {
    const table = uniqueTable('deadlock');
    const store = stores.open<Data>({ db: url, table, gcInterval: 0, shortCircuit: false });
    const ids = [newId(), newId()].sort((a, b) => (storedKey(a) < storedKey(b) ? -1 : 1));
    const [first, second] = ids.map(storedKey) as [string, string];
    await Promise.all(ids.map((id) => store.write(id, { n: 1 })));

    // Another transaction locks the row the batch locks second...
    const other = await admin.connect();
    try {
      await other.query("BEGIN; SET LOCAL deadlock_timeout = '30s'");
      await other.query(
        `UPDATE ${quoted(table)} SET sess_counter = sess_counter + 100 WHERE sess_id = $1`,
        [second],
      );
      // ...the batch locks the first row and waits for the second...
      const batch = Promise.all(ids.map((id) => store.touch(id)));
      await waitForLockWait(table);
      // ...and the other transaction now waits for the first: a deadlock. PostgreSQL finds it
      // in the batch's backend (its deadlock_timeout, 1 s, ends first) and aborts the batch.
      const otherUpdate = other.query(
        `UPDATE ${quoted(table)} SET sess_counter = sess_counter + 100 WHERE sess_id = $1`,
        [first],
      );
      await otherUpdate; // granted once the batch was aborted: the other transaction survived
      await other.query('COMMIT');
      assert.deepEqual(await batch, [true, true], 'the batch ran again once the lock was free');
    } finally {
      other.release();
    }
    for (const key of [first, second]) {
      // 1 (write) + 100 (other transaction) + 1 (the batch, once)
      assert.equal((await storedRow(admin, table, key))?.sess_counter, 102);
    }
  });
});

/** Waits until some backend waits for a row lock on `table`. */
async function waitForLockWait(table: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const { rows } = await admin.query(
      `SELECT 1 FROM pg_locks l JOIN pg_stat_activity a USING (pid)
       WHERE NOT l.granted AND a.query LIKE $1`,
      [`%${table}%`],
    );
    if (rows.length > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('the batch never waited for the lock');
}
