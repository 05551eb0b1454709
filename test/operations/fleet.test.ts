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
