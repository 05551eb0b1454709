/**
 * The PHP handler with several PostgreSQL servers (three real ones): the same placement as
 * the Node store, so PHP finds every session Node placed and the other way round; and
 * failover with the Node store's bookkeeping: a write or destroy while a session's home is
 * down goes to the next server with a marker (a destroy as a tombstone), a read of a
 * session that lives on the down server fails instead of coming back as absent, and the
 * copies are moved home (by PHP or by Node) once it is back.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { redact } from '../../src/database/conninfo.js';
import { Rendezvous } from '../../src/routing/rendezvous.js';
import { phpStore } from '../helpers/php-session.js';
import {
  bookkeepingRows,
  newId,
  rowsEverywhere,
  storedKey,
  uniqueTable,
  useFleet,
  waitUntil,
} from '../several-servers/fixtures.js';

const fleet = useFleet('phpfleet', {});

/** The stored text as it is: PHP's encoding, untouched by any serializer. */
const raw = { stringify: (data: string) => data, parse: (text: string) => text };

function setup() {
  const table = uniqueTable('php');
  const php = { db: [...fleet.urls], table, gcInterval: 0 };
  const node = () =>
    fleet.stores.open({ ...fleet.options(table), serializer: raw as never }) as unknown as {
      read(id: string): Promise<{ data: string } | undefined>;
      write(id: string, data: string): Promise<boolean>;
    };
  const home = (id: string) =>
    new Rendezvous(fleet.urls.map(redact)).rank(storedKey(id)) as [number, number, number];
  return { table, php, node, home };
}

async function holders(table: string): Promise<Map<string, number[]>> {
  const where = new Map<string, number[]>();
  for (const row of await rowsEverywhere(fleet, table)) {
    where.set(row.sess_id, [...(where.get(row.sess_id) ?? []), row.server]);
  }
  return where;
}

describe('PHP with several servers', () => {
  it('places sessions where Node does: each on its rendezvous home, read by the other language', async () => {
    const { table, php, node, home } = setup();
    const byPhp = Array.from({ length: 60 }, () => newId());
    const results = await phpStore(
      php,
      byPhp.map((id, i) => ['write', id, `n|i:${i};`] as const),
    );
    assert.ok(
      results.every((r) => 'written' in r && r.written),
      JSON.stringify(results.slice(0, 3)),
    );
    const where = await holders(table);
    for (const id of byPhp) assert.deepEqual(where.get(storedKey(id)), [home(id)[0]], id);
    assert.equal(new Set(byPhp.map((id) => home(id)[0])).size, 3, 'all three servers used');

    const store = node();
    for (const [i, id] of byPhp.entries()) assert.equal((await store.read(id))?.data, `n|i:${i};`);
    const byNode = Array.from({ length: 60 }, () => newId());
    for (const [i, id] of byNode.entries()) await store.write(id, `m|i:${i};`);
    const read = await phpStore(
      php,
      byNode.map((id) => ['read', id] as const),
    );
    assert.deepEqual(
      read.map((r) => ('data' in r ? r.data : r)),
      byNode.map((_, i) => `m|i:${i};`),
    );
    assert.deepEqual(
      read.map((r) => ('server' in r ? r.server : null)),
      byNode.map((id) => home(id)[0]),
    );
  });

  it('fails over: writes and destroys go to the next server with the bookkeeping Node uses; nothing lost or resurrected', async () => {
    const { table, php, node, home } = setup();
    const down = 1;
    // sessions whose home is the server that will go down
    const ids: string[] = [];
    while (ids.length < 4) {
      const id = newId();
      if (home(id)[0] === down) ids.push(id);
    }
    const [living, written, destroyed, forNode] = ids as [string, string, string, string];
    await phpStore(php, [
      ['write', living, 'v|i:1;'],
      ['write', destroyed, 'v|i:1;'],
    ]);
    const server = fleet.servers[down];
    assert.ok(server);
    await server.stop('immediate');
    try {
      const during = await phpStore(php, [
        ['read', living],
        ['write', written, 'v|s:6:"outage";'],
        ['write', forNode, 'v|s:4:"node";'],
        ['destroy', destroyed],
      ]);
      assert.equal(
        (during[0] as { error?: string }).error,
        'SPG_DB_UNREACHABLE',
        'unreachable, never absent',
      );
      assert.deepEqual(during.slice(1), [
        { written: true },
        { written: true },
        { destroyed: true },
      ]);
      const next = home(written)[1];
      const copies = await rowsEverywhere(fleet, table, new Set([down]));
      assert.ok(
        copies.some((r) => r.sess_id === storedKey(written) && r.server === next),
        'written on the next server',
      );
      const marks = copies.filter(
        (r) => r.sess_id.startsWith('!foreign:') || r.sess_name === '!destroyed',
      );
      assert.ok(
        marks.some((r) => r.sess_id.startsWith('!foreign:')),
        'a failover marker',
      );
      assert.ok(
        marks.some((r) => r.sess_id === storedKey(destroyed) && r.sess_name === '!destroyed'),
        'a tombstone',
      );
    } finally {
      await server.start();
    }
    const after = await phpStore(php, [
      ['read', living],
      ['read', written],
      ['read', destroyed],
    ]);
    assert.deepEqual(after, [
      { data: 'v|i:1;', server: down },
      { data: 'v|s:6:"outage";', server: down },
      { data: null, server: null },
    ]);
    const where = await holders(table);
    assert.deepEqual(where.get(storedKey(written)), [down], 'moved home, the copy removed');
    assert.equal(
      where.get(storedKey(destroyed)),
      undefined,
      "the home's stale copy deleted: no resurrection",
    );
    // A Node process moves PHP's copy home as well.
    assert.equal((await node().read(forNode))?.data, 'v|s:4:"node";');
    assert.deepEqual((await holders(table)).get(storedKey(forNode)), [down]);
  });

  it("moves every copy home from PHP's garbage collection, and drops the markers, as Node's background pass does", async () => {
    const { table, php, home } = setup();
    const down = 2;
    const ids: string[] = [];
    while (ids.length < 5) {
      const id = newId();
      if (home(id)[0] === down) ids.push(id);
    }
    const server = fleet.servers[down];
    assert.ok(server);
    await server.stop('immediate');
    try {
      const written = await phpStore(
        php,
        ids.map((id, i) => ['write', id, `v|i:${i};`] as const),
      );
      assert.ok(written.every((r) => 'written' in r));
    } finally {
      await server.start();
    }
    // a marker set within the last second is kept (it may be newer than the one read): retry
    await waitUntil('the markers to be dropped', async () => {
      await phpStore(php, [['handBack', '']]);
      return (await bookkeepingRows(fleet, table)).length === 0;
    });
    const where = await holders(table);
    for (const id of ids) assert.deepEqual(where.get(storedKey(id)), [down], id);
    const read = await phpStore(
      php,
      ids.map((id) => ['read', id] as const),
    );
    assert.deepEqual(
      read.map((r) => ('data' in r ? r.data : r)),
      ids.map((_, i) => `v|i:${i};`),
    );
  });
});
