/**
 * Issue 3, failover without losing sessions, on three real servers: one is stopped with
 * `pg_ctl stop -m immediate` and started again, first around a few chosen sessions, then
 * under continuous load. Afterwards no acknowledged write is lost or stale and no
 * acknowledged destroy is undone by the home server's stale copy.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { reportFault } from '../faults/fault-report.js';
import {
  assertNothingLost,
  idsHomedOn,
  outageUnderLoad,
  placement,
  quoted,
  recordHealth,
  rowsEverywhere,
  storedKey,
  summarizeFailures,
  uniqueTable,
  useFleet,
  waitForHandBack,
  waitUntil,
} from './fixtures.js';

const fleet = useFleet('failover', {
  connectTimeoutMillis: 1000,
  queryTimeoutMillis: 3000,
  healthCheckMillis: 300,
});
const { stores, options } = fleet;

describe('one of three servers stopped and started again', () => {
  it('keeps sessions changed, created and destroyed meanwhile; reports it in events and status()', async () => {
    const table = uniqueTable();
    const store = stores.open(options(table));
    const events = recordHealth(store);
    const order = await placement(store);
    const victim = 1;
    const [changed, destroyed, created, untouched] = [0, 1, 2, 3].map(() =>
      idsHomedOn(order, victim, 5),
    ) as [string[], string[], string[], string[]];
    const elsewhere = [...idsHomedOn(order, 0, 5), ...idsHomedOn(order, 2, 5)];
    for (const id of [...changed, ...destroyed, ...untouched, ...elsewhere])
      await store.write(id, { v: 1 });

    await fleet.servers[victim]?.stop('immediate');
    try {
      for (const id of changed) await store.write(id, { v: 2 });
      for (const id of destroyed) await store.destroy(id);
      for (const id of created) await store.write(id, { v: 1 });
      for (const id of elsewhere) assert.deepEqual((await store.read(id))?.data, { v: 1 });
      for (const id of changed) assert.deepEqual((await store.read(id))?.data, { v: 2 });
      for (const id of destroyed) assert.equal(await store.read(id), undefined);
      // A session that exists only on the stopped server cannot be read: an error, never
      // "absent" (the visitor would get a new session, and the old one would come back).
      for (const id of untouched)
        await assert.rejects(store.read(id), { code: 'SPG_DB_UNREACHABLE' });

      assert.deepEqual(
        events.failover.map((e) => e.server),
        [victim],
      );
      const status = await store.status();
      console.log(
        `status() of three servers, server ${victim} stopped:\n${JSON.stringify(status, null, 2)}`,
      );
      assert.equal(status.serverCount, 3);
      assert.deepEqual(
        status.servers.map((s) => s.up),
        [true, false, true],
      );
      const down = status.servers[victim];
      assert.match(down?.lastError ?? '', /cannot reach PostgreSQL/);
      assert.equal(down?.sessions, null);
      assert.equal(down?.latencyMillis === null || typeof down?.latencyMillis === 'number', true);
      for (const s of status.servers) {
        assert.doesNotMatch(s.connection, new RegExp(new URL(fleet.urls[0] ?? '').password));
        assert.match(s.connection, /\*\*\*/);
      }
      assert.equal(status.servers[0]?.lastError, null);

      // the writes went to each session's next server, which carries a marker for the home
      const rows = await rowsEverywhere(fleet, table, new Set([victim]));
      const markers = rows.filter((r) => r.sess_id.startsWith('!foreign:'));
      assert.ok(markers.length > 0 && markers.length <= 2, 'a marker on each holder');
      for (const id of changed) {
        const copy = rows.find((r) => r.sess_id === storedKey(id));
        assert.equal(copy?.server, order(id)[1]);
      }
      for (const id of destroyed) {
        const tombstone = rows.find((r) => r.sess_id === storedKey(id));
        assert.equal(tombstone?.sess_name, '!destroyed', 'a destroy leaves a tombstone');
      }
    } finally {
      await fleet.servers[victim]?.start();
    }
    await waitUntil('the recovery event', () => events.recovery.length > 0);
    assert.deepEqual(
      events.recovery.map((e) => e.server),
      [victim],
    );

    // The home is back with its stale copies: the store serves the newer ones,
    // and a process that starts now (no memory of the outage) sees the same.
    const fresh = stores.open(options(table));
    for (const reader of [store, fresh]) {
      for (const id of changed) assert.deepEqual((await reader.read(id))?.data, { v: 2 });
      for (const id of destroyed) assert.equal(await reader.read(id), undefined, 'not resurrected');
      for (const id of created) assert.deepEqual((await reader.read(id))?.data, { v: 1 });
      for (const id of untouched) assert.deepEqual((await reader.read(id))?.data, { v: 1 });
    }

    // Everything is moved home and the bookkeeping is gone.
    await waitForHandBack(fleet, table);
    const rows = await rowsEverywhere(fleet, table);
    for (const id of [...changed, ...created, ...untouched, ...elsewhere]) {
      const copies = rows.filter((r) => r.sess_id === storedKey(id));
      assert.deepEqual(
        copies.map((c) => c.server),
        [order(id)[0]],
        'stored once, on its home',
      );
    }
    for (const id of destroyed)
      assert.equal(rows.filter((r) => r.sess_id === storedKey(id)).length, 0, 'stored nowhere');
    const later = stores.open(options(table));
    for (const id of changed) assert.deepEqual((await later.read(id))?.data, { v: 2 });
    for (const id of destroyed) assert.equal(await later.read(id), undefined);
    const status = await store.status();
    assert.deepEqual(
      status.servers.map((s) => s.up),
      [true, true, true],
    );
    assert.equal(status.servers[victim]?.lastError, null);
  });

  it('under continuous load: no session lost, stale or resurrected; failures only around the stop', async (t) => {
    const table = uniqueTable();
    const store = stores.open(options(table));
    const order = await placement(store);
    const victim = 2;
    const report = await outageUnderLoad(store, fleet, victim, {
      workers: 8,
      sessionsPerWorker: 30,
      opsPerPhase: 1500,
    });
    console.log(
      [
        `load on 3 servers, server ${victim} stopped (immediate) and started again:`,
        `  operations: ${report.ops} (before ${report.opsBefore}, down ${report.opsDown}, after ${report.opsAfter})`,
        `  outage as the store saw it: ${Math.round(report.recoveredAt - report.stopAt)} ms`,
        `  failed operations: ${report.failures.length}`,
        ...summarizeFailures(report.failures).map((line) => `    ${line}`),
        `  reads that found nothing during the outage (sessions only on the stopped server): ${report.missingReads.length}`,
        `  stale reads: ${report.staleReads.length}`,
      ].join('\n'),
    );
    assert.deepEqual(
      report.events.failover.map((e) => e.server),
      [victim],
    );
    assert.deepEqual(
      report.events.recovery.map((e) => e.server),
      [victim],
    );
    for (const failure of report.failures) {
      assert.equal(failure.code, 'SPG_DB_UNREACHABLE', failure.message);
      assert.ok(
        failure.endedAt >= report.stopAt && failure.startedAt <= report.recoveredAt,
        `failed outside the outage: ${JSON.stringify(failure)}`,
      );
    }
    assert.deepEqual(report.staleReads, [], 'no read ever returned an older value');
    for (const miss of report.missingReads) {
      assert.ok(
        miss.at >= report.stopAt && miss.at <= report.recoveredAt,
        `a session was missing outside the outage: ${JSON.stringify(miss)}`,
      );
      assert.equal(order(miss.id)[0], victim, 'only sessions homed on the stopped server');
    }

    await assertNothingLost(fleet, table, store, report, order);
    reportFault(t, import.meta.url, {
      fault: 'Server killed under load',
      done: `one of three servers stopped with pg_ctl -m immediate under ${report.ops} operations of 8 workers, then started`,
      held: 'no session lost, stale or resurrected (checked against the history of what was acknowledged); failures only during the outage, each SPG_DB_UNREACHABLE',
      sessions: report.sessions.length,
      lost: 0,
      failed: report.failures.length,
    });
  });
  it('moves copies home over expired rows, and expired copies home as expired', async () => {
    const table = uniqueTable();
    const store = stores.open(options(table));
    const events = recordHealth(store);
    const order = await placement(store);
    const victim = 0;
    const [expiredAtHome, expiredElsewhere] = idsHomedOn(order, victim, 2) as [string, string];
    const expire = async (server: number, id: string) => {
      const { rowCount } = (await fleet.admins[server]?.query(
        `UPDATE ${quoted(table)} SET sess_expire = floor(extract(epoch from now()))::bigint - 10
         WHERE sess_id = $1`,
        [storedKey(id)],
      )) ?? { rowCount: 0 };
      assert.equal(rowCount, 1);
    };
    await store.write(expiredAtHome, { v: 1 });
    await store.write(expiredElsewhere, { v: 1 });
    await expire(victim, expiredAtHome); // not collected yet (gcInterval 0)

    await fleet.servers[victim]?.stop('immediate');
    try {
      await store.write(expiredAtHome, { v: 2 });
      await store.write(expiredElsewhere, { v: 2 });
      await expire(order(expiredElsewhere)[1] as number, expiredElsewhere);
    } finally {
      await fleet.servers[victim]?.start();
    }
    await waitUntil('the recovery event', () => events.recovery.length > 0);
    assert.deepEqual((await store.read(expiredAtHome))?.data, { v: 2 });
    assert.equal(await store.read(expiredElsewhere), undefined, 'expired stays expired');
    await waitForHandBack(fleet, table);
    const rows = await rowsEverywhere(fleet, table);
    assert.deepEqual(
      rows.map((r) => [r.server, r.sess_id, r.sess_data]),
      [
        [victim, storedKey(expiredAtHome), JSON.stringify({ v: 2 })],
        [victim, storedKey(expiredElsewhere), null],
      ].sort((a, b) => (String(a[1]) < String(b[1]) ? -1 : 1)), // byte order, as ORDER BY in C
      'both home, the expired one without its data',
    );
    assert.equal(await stores.open(options(table)).read(expiredElsewhere), undefined);
  });
});
