/**
 * A PHP write or destroy drops the copy a Node process keeps in its cache (`cache: true`):
 * the PHP handler's statements notify on the channel Node's caches LISTEN on, in the same
 * statement, as the Node store's own writes do. Without that notification (`notify: false`)
 * Node's cache would go on serving the old session.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SessionPgsql } from '../../src/index.js';
import { uniqueTable, useTestDatabase } from '../core/fixtures.js';
import { phpOk } from '../helpers/php-session.js';

/** Longest wait for something that must happen (a hang guard, not a timing claim). */
const GUARD_MILLIS = 10_000;

const db = useTestDatabase();

/** The stored text as it is: what PHP wrote, untouched by any serializer. */
const raw = { stringify: (data: string) => data, parse: (text: string) => text };

async function until(what: string, probe: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + GUARD_MILLIS;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

async function reads(store: SessionPgsql<string>): Promise<number> {
  return (await store.status()).servers[0]?.statements.read ?? 0;
}

async function nodeCache(table: string, hashIds: boolean): Promise<SessionPgsql<string>> {
  const store = db.stores.open<string>({
    db: db.url,
    table,
    gcInterval: 0,
    cache: true,
    // Long enough that no heartbeat falls due during a test: a heartbeat late on a busy
    // machine empties the cache, which would drop the stale copy this test looks for.
    cacheHeartbeatMillis: 60_000,
    serializer: raw,
    hashIds,
  });
  await store.length(); // starts the listener
  await until(
    'the cache to be on',
    async () => (await store.status()).servers[0]?.cache?.enabled === true,
  );
  return store;
}

for (const hashIds of [true, false]) {
  describe(`a PHP write drops Node's cached copy (hashIds: ${hashIds})`, () => {
    it('a write and a destroy from PHP reach the cache of a Node process; without notify the copy stays', async () => {
      const table = uniqueTable('notify');
      const php = (id: string | undefined, steps: [string, ...unknown[]][], notify = true) =>
        phpOk({
          options: { db: db.url, table, gcInterval: 0, hashIds, notify },
          ...(id ? { id } : {}),
          steps,
        });
      const { id: x } = await php(undefined, [['start'], ['set', 'x', 1]]);
      const { id: y } = await php(undefined, [['start'], ['set', 'y', 1]]);
      const node = await nodeCache(table, hashIds);

      assert.equal((await node.read(x))?.data, 'x|i:1;');
      assert.equal((await node.read(y))?.data, 'y|i:1;');
      const before = await reads(node);
      assert.equal((await node.read(x))?.data, 'x|i:1;');
      assert.equal(await reads(node), before, 'served from the cache');

      await php(x, [['start'], ['set', 'x', 2]]);
      await until('Node to see the PHP write', async () => (await node.read(x))?.data === 'x|i:2;');

      // Not notified: Y stays in Node's cache, stale, although a later notified write (X
      // again, on the same channel) has arrived.
      await php(y, [['start'], ['set', 'y', 2]], false);
      await php(x, [['start'], ['set', 'x', 3]]);
      await until(
        'Node to see the second PHP write',
        async () => (await node.read(x))?.data === 'x|i:3;',
      );
      assert.equal((await node.read(y))?.data, 'y|i:1;', 'the copy PHP did not notify about');

      await php(x, [['start'], ['destroy']]);
      await until('Node to see the PHP destroy', async () => (await node.read(x)) === undefined);
    });
  });
}
