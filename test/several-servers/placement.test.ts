/**
 * Issue 3, load balancing: sessions spread evenly over three real servers, and adding a
 * fourth moves about a quarter of them (rendezvous hashing), where session_pgsql's
 * "sum of the id's bytes mod N" moves about three quarters.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { Rendezvous } from '../../src/routing/rendezvous.js';
import {
  type Data,
  type Fleet,
  newId,
  placement,
  quoted,
  rowsEverywhere,
  sessionCounts,
  startFleet,
  storedKey,
  storeTracker,
  uniqueTable,
} from './fixtures.js';

const SESSIONS = 3000;
let fleet: Fleet;
/** A fourth store entry: a second database on server 0 (to the hash, a fourth server). */
let fourthUrl: string;
const stores = storeTracker();

before(async () => {
  fleet = await startFleet(3, 'place');
  const first = fleet.servers[0];
  assert.ok(first);
  fourthUrl = await first.createDatabase('sessions4');
});
after(async () => {
  await stores.closeAll();
  await fleet?.close();
});

/** session_pgsql's placement: the sum of the id's bytes modulo the number of servers. */
const sumOfBytes = (id: string, servers: number) =>
  [...Buffer.from(id)].reduce((sum, byte) => sum + byte, 0) % servers;

async function writeAll(store: { write(id: string, data: Data): Promise<boolean> }, ids: string[]) {
  for (let i = 0; i < ids.length; i += 32) {
    await Promise.all(ids.slice(i, i + 32).map((id, j) => store.write(id, { v: i + j })));
  }
}

/** Which store entry holds each stored key, from the tables (the fourth entry is index 3). */
async function holders(table: string): Promise<Map<string, number>> {
  const where = new Map<string, number>();
  for (const row of await rowsEverywhere(fleet, table)) where.set(row.sess_id, row.server);
  const fourth = new pg.Pool({ connectionString: fourthUrl, max: 1 });
  try {
    const { rows } = await fourth
      .query<{ sess_id: string }>(`SELECT sess_id FROM ${quoted(table)}`)
      .catch(() => ({ rows: [] as { sess_id: string }[] }));
    for (const row of rows) {
      assert.equal(where.has(row.sess_id), false, 'a session is stored once');
      where.set(row.sess_id, 3);
    }
  } finally {
    await fourth.end();
  }
  return where;
}

describe('placement over three servers', () => {
  it(`spreads ${SESSIONS} sessions evenly: each server holds 1/3 ± 10%`, async () => {
    const table = uniqueTable();
    const store = stores.open({ db: [...fleet.urls], table, gcInterval: 0 });
    const ids = Array.from({ length: SESSIONS }, newId);
    await writeAll(store, ids);
    const counts = await sessionCounts(fleet, table);
    console.log(`sessions per server (of ${SESSIONS}): ${counts.join(', ')}`);
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      SESSIONS,
      'every session is stored exactly once',
    );
    for (const count of counts) {
      assert.ok(
        count >= (SESSIONS / 3) * 0.9 && count <= (SESSIONS / 3) * 1.1,
        `${count} is within 1/3 ± 10% of ${SESSIONS} (${counts.join(', ')})`,
      );
    }
    // each session is on the server the rendezvous ranking puts first, and reads back
    const order = await placement(store);
    const where = await holders(table);
    for (const id of ids) assert.equal(where.get(storedKey(id)), order(id)[0]);
    assert.equal(await store.length(), SESSIONS);
    for (const id of ids.slice(0, 100)) assert.ok(await store.read(id), 'reads back');
  });
});

describe('adding a fourth server', () => {
  it('moves about 1/4 of the keys with rendezvous hashing, about 3/4 with the sum of bytes', () => {
    const three = ['db-a', 'db-b', 'db-c'];
    const before3 = new Rendezvous(three);
    const after4 = new Rendezvous([...three, 'db-d']);
    const ids = Array.from({ length: 30_000 }, newId);
    let moved = 0;
    let movedElsewhere = 0;
    let movedBySum = 0;
    for (const id of ids) {
      const from = before3.rank(storedKey(id))[0];
      const to = after4.rank(storedKey(id))[0];
      if (from !== to) moved += 1;
      if (from !== to && to !== 3) movedElsewhere += 1;
      if (sumOfBytes(id, 3) !== sumOfBytes(id, 4)) movedBySum += 1;
    }
    const share = moved / ids.length;
    const shareBySum = movedBySum / ids.length;
    console.log(
      `keys moved by adding a 4th server: rendezvous ${(share * 100).toFixed(1)}%, ` +
        `sum of bytes mod N ${(shareBySum * 100).toFixed(1)}%`,
    );
    assert.ok(share > 0.23 && share < 0.27, `rendezvous moved ${share}`);
    assert.equal(movedElsewhere, 0, 'keys only move to the new server');
    // The contrast: session_pgsql's hash keeps a key in place only when s mod 3 = s mod 4.
    assert.ok(shareBySum > 0.7 && shareBySum < 0.8, `sum of bytes moved ${shareBySum}`);
  });

  it('the store places 1/4 of the same sessions on the new server and leaves the rest', async () => {
    const table = uniqueTable();
    const three = stores.open({ db: [...fleet.urls], table, gcInterval: 0 });
    const ids = Array.from({ length: SESSIONS }, newId);
    await writeAll(three, ids);
    const before3 = await holders(table);

    const table4 = uniqueTable();
    const four = stores.open({ db: [...fleet.urls, fourthUrl], table: table4, gcInterval: 0 });
    await writeAll(four, ids);
    const after4 = await holders(table4);

    let moved = 0;
    for (const id of ids) {
      const from = before3.get(storedKey(id));
      const to = after4.get(storedKey(id));
      assert.notEqual(from, undefined);
      assert.notEqual(to, undefined);
      if (from !== to) {
        moved += 1;
        assert.equal(to, 3, 'a session that moves, moves to the new server');
      }
    }
    const share = moved / ids.length;
    const bySum = ids.filter((id) => sumOfBytes(id, 3) !== sumOfBytes(id, 4)).length / ids.length;
    console.log(
      `store: ${moved} of ${SESSIONS} sessions (${(share * 100).toFixed(1)}%) moved to the 4th server; ` +
        `the sum of bytes would have moved ${(bySum * 100).toFixed(1)}%`,
    );
    assert.ok(share > 0.2 && share < 0.3, `moved ${share}`);
    assert.ok(bySum > 0.65, `sum of bytes moved ${bySum}`);
  });
});
