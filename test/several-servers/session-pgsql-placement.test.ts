/**
 * Issue 10, point 5: a fleet whose sessions session_pgsql spread over several servers keeps
 * finding them. session_pgsql put a session on server (sum of the id's bytes) mod N, and on
 * the next ones in the list while that one was down (php_ps_pgsql_get_db); `placement:
 * 'session_pgsql'` does the same. Rows are written on three real servers with the
 * extension's own SQL, in its pre-1.0.1 table, which upgradeTable() brings over on all three.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type SessionPgsqlOptions, upgradeTable } from '../../src/index.js';
import { storeTracker } from '../core/fixtures.js';
import {
  createSessionPgsqlTable,
  insertAsSessionPgsql,
  phpSession,
  textSerializer,
} from '../helpers/session-pgsql-table.js';
import {
  type Fleet,
  newId,
  quoted,
  rowsEverywhere,
  startFleet,
  uniqueTable,
  waitForHandBack,
  waitUntil,
} from './fixtures.js';

const SESSIONS = 300;
let fleet: Fleet;
const stores = storeTracker();

before(async () => {
  fleet = await startFleet(3, 'spgplace');
});
after(async () => {
  await stores.closeAll();
  await fleet?.close();
});

/**
 * session_pgsql's choice, restated from its C source: `sum += (int)key[i]` over the id's
 * chars, then `div(sum, servers).rem`.
 */
const sessionPgsqlServer = (id: string, servers: number) =>
  [...id].reduce((sum, char) => sum + (char.codePointAt(0) ?? 0), 0) % servers;

function options(table: string, extra: SessionPgsqlOptions<string> = {}) {
  return {
    db: [...fleet.urls],
    table,
    hashIds: false,
    name: 'PHPSESSID',
    serializer: textSerializer,
    gcInterval: 0,
    ...extra,
  } satisfies SessionPgsqlOptions<string>;
}

/** Which server holds each `sess_id` of `table` (every id is stored once). */
async function holders(table: string): Promise<Map<string, number>> {
  const where = new Map<string, number>();
  for (const row of await rowsEverywhere(fleet, table)) {
    if (row.sess_id.startsWith('!')) continue;
    assert.equal(where.has(row.sess_id), false, `${row.sess_id} is stored once`);
    where.set(row.sess_id, row.server);
  }
  return where;
}

describe("placement: 'session_pgsql' on three servers", () => {
  let table: string;
  const placed = new Map<string, string>();

  before(async () => {
    table = uniqueTable('php_session');
    for (const admin of fleet.admins)
      await createSessionPgsqlTable(admin, table, { primaryKey: false });
    for (let i = 0; i < SESSIONS; i++) {
      const id = newId();
      const data = phpSession('user', `user${i}`);
      const admin = fleet.admins[sessionPgsqlServer(id, 3)];
      assert.ok(admin);
      await insertAsSessionPgsql(admin, table, { id, data, secondsAgo: 30 });
      placed.set(id, data);
    }
  });

  it('upgradeTable() brings the pre-1.0.1 table over on every server', async () => {
    const result = await upgradeTable({ db: [...fleet.urls], table });
    assert.deepEqual(
      result.servers.map((s) => [s.server, s.primaryKeyAdded, s.widenedColumns.length]),
      [
        [0, true, 3],
        [1, true, 3],
        [2, true, 3],
      ],
    );
    const counts = result.servers.map((s) => s.sessions);
    console.log(`sessions per server as session_pgsql placed them: ${counts.join(', ')}`);
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      SESSIONS,
    );
  });

  it('finds every session where session_pgsql put it, with its data', async () => {
    const store = stores.open<string>(options(table, { placement: 'session_pgsql' }));
    for (const [id, data] of placed) assert.equal((await store.read(id))?.data, data, id);
    assert.equal(await store.length(), SESSIONS);
  });

  it('(rendezvous placement, the default, would miss most of them)', async () => {
    const store = stores.open<string>(options(table));
    let found = 0;
    for (const [id] of placed) if (await store.read(id)) found += 1;
    console.log(`found with rendezvous placement: ${found} of ${SESSIONS}`);
    assert.ok(found < SESSIONS / 2, `${found} found`);
  });

  it('writes new sessions on the server session_pgsql would read them from', async () => {
    const store = stores.open<string>(options(table, { placement: 'session_pgsql' }));
    const ids = Array.from({ length: 60 }, newId);
    for (const id of ids) await store.write(id, phpSession('new', id));
    const where = await holders(table);
    for (const id of ids) assert.equal(where.get(id), sessionPgsqlServer(id, 3), id);
  });

  it("while a session's server is down, uses the next one after it, and moves it home afterwards", async () => {
    const store = stores.open<string>(
      options(table, {
        placement: 'session_pgsql',
        connectTimeoutMillis: 1000,
        queryTimeoutMillis: 3000,
        healthCheckMillis: 300,
      }),
    );
    const homedOn1: string[] = [];
    while (homedOn1.length < 20) {
      const id = newId();
      if (sessionPgsqlServer(id, 3) === 1) homedOn1.push(id);
    }
    const server1 = fleet.servers[1];
    assert.ok(server1);
    await server1.stop('immediate');
    try {
      for (const id of homedOn1) await store.write(id, phpSession('during', 'outage'));
      const { rows } = await (fleet.admins[2] as (typeof fleet.admins)[number]).query<{
        sess_id: string;
      }>(`SELECT sess_id FROM ${quoted(table)} WHERE sess_id = ANY($1)`, [homedOn1]);
      assert.equal(rows.length, homedOn1.length, 'server 2 (after 1) took them');
    } finally {
      await server1.start();
    }
    await waitUntil('server 1 back', async () => (await store.status()).servers[1]?.up === true);
    await waitForHandBack(fleet, table);
    const where = await holders(table);
    for (const id of homedOn1) {
      assert.equal(where.get(id), 1, `${id} is home again`);
      assert.equal((await store.read(id))?.data, phpSession('during', 'outage'));
    }
  });
});
