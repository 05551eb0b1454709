/**
 * Issue 3, failoverMode: every session on the first server while it is up, on the second
 * only while the first is down, no balancing; the same no-loss rules when it comes back.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  assertNothingLost,
  newId,
  outageUnderLoad,
  recordHealth,
  rowsEverywhere,
  sessionCounts,
  storedKey,
  summarizeFailures,
  uniqueTable,
  useFleet,
  waitForHandBack,
  waitUntil,
} from './fixtures.js';

const fleet = useFleet('fomode', {
  failoverMode: true,
  connectTimeoutMillis: 1000,
  queryTimeoutMillis: 3000,
  healthCheckMillis: 300,
});
const { stores, options } = fleet;

/** In failover mode every session's order is the list's. */
const listOrder = () => [0, 1, 2];

describe('failoverMode', () => {
  it('puts every session on the first server, on the second only while the first is down', async () => {
    const table = uniqueTable();
    const store = stores.open(options(table));
    const events = recordHealth(store);
    assert.equal((await store.status()).failoverMode, true);
    const before = Array.from({ length: 60 }, newId);
    for (const id of before) await store.write(id, { v: 1 });
    assert.deepEqual(await sessionCounts(fleet, table), [60, 0, 0], 'no balancing');

    const [changed, destroyed, untouched] = [
      before.slice(0, 20),
      before.slice(20, 40),
      before.slice(40),
    ];
    const created = Array.from({ length: 20 }, newId);
    await fleet.servers[0]?.stop('immediate');
    try {
      for (const id of changed) await store.write(id, { v: 2 });
      for (const id of destroyed) await store.destroy(id);
      for (const id of created) await store.write(id, { v: 1 });
      assert.deepEqual(
        await sessionCounts(fleet, table).catch(() => null),
        null,
        'server 0 is down',
      );
      const rows = await rowsEverywhere(fleet, table, new Set([0]));
      assert.equal(rows.filter((r) => r.server === 2).length, 0, 'the third server is not used');
      assert.equal(
        rows.filter((r) => r.server === 1 && r.sess_data !== null && !r.sess_id.startsWith('!'))
          .length,
        40,
        'changed and created sessions on the second server',
      );
      assert.deepEqual(
        events.failover.map((e) => e.server),
        [0],
      );
    } finally {
      await fleet.servers[0]?.start();
    }
    await waitUntil('the recovery event', () => events.recovery.length > 0);
    const fresh = stores.open(options(table));
    for (const reader of [store, fresh]) {
      for (const id of changed) assert.deepEqual((await reader.read(id))?.data, { v: 2 });
      for (const id of destroyed) assert.equal(await reader.read(id), undefined, 'not resurrected');
      for (const id of created) assert.deepEqual((await reader.read(id))?.data, { v: 1 });
      for (const id of untouched) assert.deepEqual((await reader.read(id))?.data, { v: 1 });
    }
    await waitForHandBack(fleet, table);
    assert.deepEqual(await sessionCounts(fleet, table), [60, 0, 0], 'all back on the first server');
    const rows = await rowsEverywhere(fleet, table);
    for (const id of destroyed)
      assert.equal(rows.filter((r) => r.sess_id === storedKey(id)).length, 0);
  });

  it('under continuous load with the first server stopped and started: nothing lost, stale or resurrected', async () => {
    const table = uniqueTable();
    const store = stores.open(options(table));
    const report = await outageUnderLoad(store, fleet, 0, {
      workers: 8,
      sessionsPerWorker: 30,
      opsPerPhase: 1500,
    });
    console.log(
      [
        'failoverMode load, server 0 stopped (immediate) and started again:',
        `  operations: ${report.ops} (before ${report.opsBefore}, down ${report.opsDown}, after ${report.opsAfter})`,
        `  failed operations: ${report.failures.length}`,
        ...summarizeFailures(report.failures).map((line) => `    ${line}`),
        `  reads that found nothing during the outage: ${report.missingReads.length}`,
        `  stale reads: ${report.staleReads.length}`,
      ].join('\n'),
    );
    assert.deepEqual(
      report.events.failover.map((e) => e.server),
      [0],
    );
    assert.deepEqual(
      report.events.recovery.map((e) => e.server),
      [0],
    );
    for (const failure of report.failures) {
      assert.equal(failure.code, 'SPG_DB_UNREACHABLE', failure.message);
      assert.ok(failure.endedAt >= report.stopAt && failure.startedAt <= report.recoveredAt);
    }
    assert.deepEqual(report.staleReads, []);
    for (const miss of report.missingReads)
      assert.ok(miss.at >= report.stopAt && miss.at <= report.recoveredAt, JSON.stringify(miss));
    await assertNothingLost(fleet, table, store, report, listOrder);
    const counts = await sessionCounts(fleet, table);
    assert.deepEqual(counts.slice(1), [0, 0], 'nothing left on the other servers');
  });
});
