/**
 * Node's timers fire at once past 2^31-1 ms. Long intervals that validation accepts never
 * turn into a burst of background work; longer ones are refused.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SessionPgsql } from '../../src/index.js';
import { type Data, newId, uniqueTable, useTestDatabase } from './fixtures.js';

const db = useTestDatabase();

describe('long intervals', () => {
  it('gcInterval of 2e7 s (231 days): no collection claim in the next second', async () => {
    const store = db.stores.open<Data>({ db: db.url, table: uniqueTable(), gcInterval: 2e7 });
    await store.write(newId(), { a: 1 }); // starts the collector's schedule
    await sleep(1000);
    const claims = (await store.status()).servers[0]?.statements.gcClaim ?? 0;
    assert.equal(claims, 0);
  });

  it('a timer option past 2^31-1 ms is refused', () => {
    for (const option of ['healthCheckMillis', 'gcCheckMillis', 'cacheHeartbeatMillis']) {
      assert.throws(() => new SessionPgsql({ db: db.url, [option]: 3e9 }), {
        code: 'SPG_INVALID_OPTION',
        message: new RegExp(option),
      });
    }
  });
});
