/**
 * Issue 11: "a cron job running gc() with a missing DATABASE_URL silently collects an
 * embedded database in the current folder and reports success". Operator calls on a store
 * without `db` whose embedded folder holds no database fail with SPG_EMBEDDED_NOT_FOUND and
 * create nothing; session traffic still creates the database, and operator calls work on it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SessionPgsql, SessionPgsqlError } from '../../src/index.js';
import { type Data, newId } from '../core/fixtures.js';

let parent: string;
before(async () => {
  parent = await mkdtemp(join(tmpdir(), 'session-pgsql-guard-'));
});
after(() => rm(parent, { recursive: true, force: true }));

const notFound = (dir: string) => (error: unknown) => {
  assert.ok(error instanceof SessionPgsqlError, String(error));
  assert.equal(error.code, 'SPG_EMBEDDED_NOT_FOUND');
  assert.ok(error.message.includes(dir), error.message);
  assert.match(error.message, /"db" option/);
  return true;
};

describe('operator calls on an embedded folder without a database', () => {
  it('fail with SPG_EMBEDDED_NOT_FOUND naming the folder, and create nothing', async () => {
    const dir = join(parent, 'missing');
    const store = new SessionPgsql<Data>({ embeddedDir: dir, gcInterval: 0 });
    try {
      const calls: [string, () => Promise<unknown>][] = [
        ['gc', () => store.gc()],
        ['stats', () => store.stats()],
        ['revoke', () => store.revoke(newId())],
        ['revokeByKey', () => store.revokeByKey('key')],
        ['revokeUser', () => store.revokeUser('alice')],
        ['inspect', () => store.inspect(newId())],
        ['clear', () => store.clear()],
        ['length', () => store.length()],
      ];
      for (const [name, call] of calls) {
        await assert.rejects(call(), notFound(dir), name);
      }
      await assert.rejects(readdir(dir), { code: 'ENOENT' });
    } finally {
      await store.close();
    }
  });

  it('an empty existing folder is no database either', async () => {
    const dir = await mkdtemp(join(parent, 'empty-'));
    const store = new SessionPgsql<Data>({ embeddedDir: dir, gcInterval: 0 });
    try {
      await assert.rejects(store.gc(), notFound(dir));
      assert.deepEqual(await readdir(dir), []);
    } finally {
      await store.close();
    }
  });

  it('session traffic creates the database; operator calls then work, in this store and the next', async () => {
    const dir = join(parent, 'created');
    const id = newId();
    const first = new SessionPgsql<Data>({ embeddedDir: dir, gcInterval: 0 });
    try {
      await first.write(id, { n: 1 });
      assert.equal(await first.length(), 1);
    } finally {
      await first.close();
    }
    assert.ok((await readdir(dir)).includes('PG_VERSION'));
    const cron = new SessionPgsql<Data>({ embeddedDir: dir, gcInterval: 0 });
    try {
      assert.equal(await cron.gc(), 0);
      assert.equal((await cron.stats()).active, 1);
      assert.deepEqual((await cron.inspect(id))?.data, { n: 1 });
    } finally {
      await cron.close();
    }
  });
});
