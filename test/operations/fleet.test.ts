/**
 * Issue 11, the fleet-wide operator calls on three real servers: revokeUser signs a user
 * out on every server and other instances' caches drop the sessions; stats per server and
 * in total, with one server stopped for real reported as down.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SessionPgsql } from '../../src/index.js';
import {
  type Data,
  errorCode,
  idsHomedOn,
  placement,
  quoted,
  storedKey as storedKeyOf,
  uniqueTable,
  useFleet,
} from '../several-servers/fixtures.js';
import { cacheOn, sqlReads, until } from './helpers.js';

const fleet = useFleet('ops', {
  cache: true,
  cacheHeartbeatMillis: 200,
  connectTimeoutMillis: 2000,
});

/** Writes a session with its custom field set (`null`: none). */
async function writeWithField(
  store: SessionPgsql<Data>,
  id: string,
  data: Data,
  field: string | null,
): Promise<void> {
  const state = store.newState(id);
  if (field !== null) state.setField(field);
  await store.write(id, data, { state });
}

/** Rows whose custom field is `field`, on each server. */
async function fieldCounts(table: string, field: string): Promise<number[]> {
  return Promise.all(
    fleet.admins.map(async (admin) => {
      const { rows } = await admin.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${quoted(table)} WHERE sess_custom = $1`,
        [field],
      );
      return rows[0]?.n ?? 0;
    }),
  );
}

describe('revokeUser on three servers', () => {
  it("deletes the user's sessions on every server, and another instance's cache drops them", async () => {
    const table = uniqueTable();
    const a = fleet.stores.open(fleet.options(table));
    const b = fleet.stores.open(fleet.options(table));
    await Promise.all([a.length(), b.length()]);
    await Promise.all([cacheOn(a), cacheOn(b)]);
    const order = await placement(a);
    const alice = [0, 1, 2].flatMap((home) => idsHomedOn(order, home, 2));
    const bob = [0, 1, 2].flatMap((home) => idsHomedOn(order, home, 1));
    const anonymous = idsHomedOn(order, 0, 2);
    for (const id of alice) await writeWithField(a, id, { v: 1 }, 'alice');
    for (const id of bob) await writeWithField(a, id, { v: 2 }, 'bob');
    for (const id of anonymous) await writeWithField(a, id, { v: 3 }, null);
    assert.deepEqual(await fieldCounts(table, 'alice'), [2, 2, 2]);
    // b serves every one of alice's sessions from its cache
    for (const id of alice) {
      await until('b to serve the session from its cache', async () => {
        const before = await sqlReads(b);
        assert.deepEqual((await b.read(id))?.data, { v: 1 });
        return (await sqlReads(b)) === before ? true : undefined;
      });
    }

    assert.equal(await a.revokeUser('alice'), 6);
    assert.deepEqual(await fieldCounts(table, 'alice'), [0, 0, 0]);
    assert.deepEqual(await fieldCounts(table, 'bob'), [1, 1, 1]);
    for (const id of alice) assert.equal(await a.read(id), undefined);
    for (const id of alice) {
      await until("b to drop alice's session", async () =>
        (await b.read(id)) === undefined ? true : undefined,
      );
    }
    for (const id of [...bob, ...anonymous]) assert.ok(await b.read(id));
    assert.equal(await a.revokeUser('alice'), 0);
    assert.equal(
      await a.revokeUser(''),
      0,
      'an empty value is no match for sessions without a field',
    );
    assert.equal(await a.length(), 5);
    await assert.rejects(
      a.revokeUser(null as unknown as string),
      (error) => errorCode(error) === 'SPG_INVALID_OPTION',
    );
  });
});

const sized = (v: number, padBytes: number): Data => ({ v, pad: 'x'.repeat(padBytes) });
const bytesOf = (data: Data) => Buffer.byteLength(JSON.stringify(data));

describe('stats on three servers', () => {
  it('reports each server and the totals, as computed in SQL', async () => {
    const table = uniqueTable();
    const store = fleet.stores.open({ ...fleet.options(table), cache: false });
    const order = await placement(store);
    const [small, large, dead] = idsHomedOn(order, 0, 3) as [string, string, string];
    const [only] = idsHomedOn(order, 1, 1) as [string];
    const data = {
      small: sized(1, 10),
      large: sized(2, 500),
      dead: sized(3, 20),
      only: sized(4, 50),
    };
    await store.write(small, data.small);
    await store.write(large, data.large);
    await store.write(dead, data.dead);
    await store.write(only, data.only);
    assert.equal(await store.touch(large), true);
    const t = quoted(table);
    const [admin0, admin1] = fleet.admins as [(typeof fleet.admins)[0], (typeof fleet.admins)[0]];
    await admin0.query(
      `UPDATE ${t} SET sess_expire = floor(extract(epoch from now()))::bigint - 10 WHERE sess_id = $1`,
      [storedKeyOf(dead)],
    );
    await admin0.query(
      `UPDATE ${t} SET sess_created = CASE sess_id WHEN $1 THEN 1700000000 ELSE 1700000100 END,
         sess_modified = CASE sess_id WHEN $1 THEN 1700000200 ELSE 1700000150 END
       WHERE sess_id = ANY($2::text[])`,
      [storedKeyOf(small), [storedKeyOf(small), storedKeyOf(large)]],
    );
    await admin1.query(`UPDATE ${t} SET sess_created = 1600000000, sess_modified = 1600000000`);

    const stats = await store.stats();
    const connections = (await store.status()).servers.map((s) => s.connection);
    const [b0, b1] = [bytesOf(data.small), bytesOf(data.large)];
    assert.deepEqual(stats.servers, [
      {
        server: 0,
        connection: connections[0],
        up: true,
        active: 2,
        expired: 1,
        bytes: { total: b0 + b1, min: b0, median: b0, p95: b1, max: b1 },
        oldestCreatedAt: new Date(1700000000_000),
        newestCreatedAt: new Date(1700000100_000),
        lastAccessedAt: new Date(1700000200_000),
        accesses: 3,
      },
      {
        server: 1,
        connection: connections[1],
        up: true,
        active: 1,
        expired: 0,
        bytes: {
          total: bytesOf(data.only),
          min: bytesOf(data.only),
          median: bytesOf(data.only),
          p95: bytesOf(data.only),
          max: bytesOf(data.only),
        },
        oldestCreatedAt: new Date(1600000000_000),
        newestCreatedAt: new Date(1600000000_000),
        lastAccessedAt: new Date(1600000000_000),
        accesses: 1,
      },
      {
        server: 2,
        connection: connections[2],
        up: true,
        active: 0,
        expired: 0,
        bytes: { total: 0, min: 0, median: 0, p95: 0, max: 0 },
        oldestCreatedAt: null,
        newestCreatedAt: null,
        lastAccessedAt: null,
        accesses: 0,
      },
    ]);
    assert.equal(stats.active, 3);
    assert.equal(stats.expired, 1);
    assert.equal(stats.accesses, 4);
    assert.deepEqual(stats.bytes, { total: b0 + b1 + bytesOf(data.only), min: b0, max: b1 });
  });
});

// Last in the file: stops a server for good.
describe('with a server stopped for real', () => {
  it('stats reports it down; revokeUser revokes on the others, then rejects naming it', async () => {
    const table = uniqueTable();
    const store = fleet.stores.open({ ...fleet.options(table), cache: false });
    const order = await placement(store);
    const carol = [0, 1, 2].flatMap((home) => idsHomedOn(order, home, 1));
    for (const id of carol) await writeWithField(store, id, { v: 1 }, 'carol');
    await fleet.servers[2]?.stop('immediate');

    const stats = await store.stats();
    assert.deepEqual(
      stats.servers.map((s) => [s.server, s.up, s.active]),
      [
        [0, true, 1],
        [1, true, 1],
        [2, false, 0],
      ],
    );
    assert.equal(errorCode(stats.servers[2]?.error), 'SPG_DB_UNREACHABLE');
    assert.equal(stats.active, 2);

    await assert.rejects(store.revokeUser('carol'), (error) => {
      assert.equal(errorCode(error), 'SPG_DB_UNREACHABLE');
      assert.match((error as Error).message, /^server 2 \(.*\) revoked nothing: /);
      return true;
    });
    const left = await Promise.all(
      fleet.admins.slice(0, 2).map(async (admin) => {
        const { rows } = await admin.query(
          `SELECT 1 FROM ${quoted(table)} WHERE sess_custom = 'carol'`,
        );
        return rows.length;
      }),
    );
    assert.deepEqual(left, [0, 0]);
  });
});
