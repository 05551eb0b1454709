/**
 * `session-pgsql/prometheus`: a real store's traffic on the shared PostgreSQL, scraped from
 * the registry and over HTTP, line by line; a failover with a second server stopped for real.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Registry } from 'prom-client';
import { prometheusMetrics } from '../../src/metrics/prometheus-metrics.js';
import {
  expireInDatabase,
  newId,
  storedKey,
  uniqueTable,
  useTestDatabase,
} from '../core/fixtures.js';
import { type PostgresServer, startPostgres } from '../helpers/postgres.js';

const db = useTestDatabase();

/** The scrape's sample lines (no # HELP / # TYPE) whose name starts with `name`. */
function samples(text: string, name: string): string[] {
  return text.split('\n').filter((line) => line.startsWith(name));
}

/** Serves `registry` at /metrics on a free port, as an application would. */
async function metricsServer(registry: Registry): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(async (request, response) => {
    if (request.url !== '/metrics') return response.writeHead(404).end();
    response.writeHead(200, { 'content-type': registry.contentType });
    response.end(await registry.metrics());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/metrics`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('prometheusMetrics', () => {
  it('counts operations by outcome, errors by code, collections; the same text over HTTP', async () => {
    const table = uniqueTable();
    const store = db.stores.open({ db: db.url, table, gcInterval: 0, shortCircuit: true });
    const registry = new Registry();
    const metrics = prometheusMetrics(store, { registry });

    const id = newId();
    await store.write(id, { user: 'ann' });
    const loaded = await store.read(id);
    assert.equal(await store.write(id, { user: 'ann' }, { state: loaded?.state }), false);
    await assert.rejects(store.write('not a valid id!', {}), { code: 'SPG_INVALID_SESSION_ID' });
    const expired = newId();
    await store.write(expired, { user: 'bob' });
    await expireInDatabase(db.admin, table, storedKey(expired));
    assert.equal(await store.gc(), 1);
    await store.destroy(id);

    const text = await registry.metrics();
    console.log(`scrape after writes, a read, a skip, an error, a gc() and a destroy:\n${text}`);
    assert.deepEqual(samples(text, 'session_pgsql_operations_total'), [
      'session_pgsql_operations_total{operation="write",outcome="ok"} 2',
      'session_pgsql_operations_total{operation="read",outcome="ok"} 1',
      'session_pgsql_operations_total{operation="write",outcome="skipped"} 1',
      'session_pgsql_operations_total{operation="write",outcome="error"} 1',
      'session_pgsql_operations_total{operation="destroy",outcome="ok"} 1',
    ]);
    assert.deepEqual(samples(text, 'session_pgsql_operation_duration_seconds_count'), [
      'session_pgsql_operation_duration_seconds_count{operation="write"} 4',
      'session_pgsql_operation_duration_seconds_count{operation="read"} 1',
      'session_pgsql_operation_duration_seconds_count{operation="destroy"} 1',
    ]);
    assert.ok(
      text.includes(
        'session_pgsql_operation_duration_seconds_bucket{le="+Inf",operation="write"} 4',
      ),
      text,
    );
    assert.deepEqual(samples(text, 'session_pgsql_errors_total'), [
      'session_pgsql_errors_total{code="SPG_INVALID_SESSION_ID"} 1',
    ]);
    assert.deepEqual(samples(text, 'session_pgsql_gc_'), [
      'session_pgsql_gc_runs_total{server="0"} 1',
      'session_pgsql_gc_deleted_rows_total{server="0"} 1',
      ...samples(text, 'session_pgsql_gc_duration_seconds_bucket'),
      ...samples(text, 'session_pgsql_gc_duration_seconds_sum'),
      'session_pgsql_gc_duration_seconds_count{server="0"} 1',
    ]);
    assert.deepEqual(samples(text, 'session_pgsql_servers_up'), ['session_pgsql_servers_up 1']);
    assert.deepEqual(samples(text, 'session_pgsql_failovers_total'), []);
    assert.deepEqual(samples(text, 'session_pgsql_cache_lookups_total'), []);
    assert.ok(text.includes('# TYPE session_pgsql_operations_total counter'));
    assert.ok(text.includes('# TYPE session_pgsql_operation_duration_seconds histogram'));
    assert.ok(text.includes('# TYPE session_pgsql_servers_up gauge'));
    assert.ok(!text.includes(id) && !text.includes(storedKey(id)), 'no session id in a label');
    assert.ok(!text.includes('ann'), 'no session data');

    const http = await metricsServer(registry);
    try {
      const response = await fetch(http.url);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), registry.contentType);
      assert.equal(await response.text(), text, 'HTTP serves the scrape (nothing ran meanwhile)');
    } finally {
      await http.close();
    }

    metrics.stop();
    assert.deepEqual(registry.getMetricsAsArray(), [], 'stop() unregisters every metric');
    assert.equal(store.listenerCount('operation'), 0);
    assert.equal(store.listenerCount('gc'), 0);
    assert.equal(store.listenerCount('failover'), 0);
    // the same registry takes a new set (nothing left registered under those names)
    prometheusMetrics(store, { registry }).stop();
  });

  it("registers in prom-client's default registry, under a prefix of one's own", async () => {
    const { register } = await import('prom-client');
    const store = db.stores.open({ db: db.url, table: uniqueTable(), gcInterval: 0 });
    const metrics = prometheusMetrics(store, { prefix: 'app_sessions_' });
    try {
      await store.read(newId());
      assert.deepEqual(samples(await register.metrics(), 'app_sessions_operations_total'), [
        'app_sessions_operations_total{operation="read",outcome="ok"} 1',
      ]);
    } finally {
      metrics.stop();
    }
    assert.equal(register.getSingleMetric('app_sessions_operations_total'), undefined);
  });

  it('counts cache hits and misses', async () => {
    const table = uniqueTable();
    const store = db.stores.open({ db: db.url, table, gcInterval: 0, cache: true });
    const registry = new Registry();
    const metrics = prometheusMetrics(store, { registry });
    // The cache answers once its LISTEN connection is up (a hang guard, not a timing claim).
    for (let tries = 0; !(await store.status()).servers[0]?.cache?.enabled; tries += 1) {
      assert.ok(tries < 500, 'the cache never started listening');
      await sleep(10);
    }
    const lookups = { hit: 0, miss: 0 };
    store.on('cacheLookup', ({ hit }) => {
      lookups[hit ? 'hit' : 'miss'] += 1;
    });
    const id = newId();
    await store.write(id, { n: 1 });
    for (let reads = 0; lookups.hit === 0; reads += 1) {
      assert.ok(reads < 500, 'the cache never answered');
      await store.read(id);
    }
    assert.deepEqual(samples(await registry.metrics(), 'session_pgsql_cache_lookups_total'), [
      ...(lookups.miss > 0
        ? [`session_pgsql_cache_lookups_total{result="miss"} ${lookups.miss}`]
        : []),
      `session_pgsql_cache_lookups_total{result="hit"} ${lookups.hit}`,
    ]);
    metrics.stop();
  });

  describe('with a second server', () => {
    let second: PostgresServer | undefined;
    after(async () => {
      await db.stores.closeAll();
      await second?.destroy();
    });

    it('counts a failover and the recovery by server; servers_up follows', async () => {
      second = await startPostgres({ name: 'metrics' });
      const secondUrl = await second.createDatabase('sessions');
      const store = db.stores.open({
        db: [db.url, secondUrl],
        table: uniqueTable(),
        gcInterval: 0,
        healthCheckMillis: 100,
      });
      const registry = new Registry();
      const metrics = prometheusMetrics(store, { registry });
      await store.read(newId());
      await store.gc(); // both tables exist before the stop
      let failed = false;
      store.once('failover', () => {
        failed = true;
      });
      // (the pool's idle connections dropping may already mark it down)
      await second.stop('immediate');
      for (let writes = 0; !failed; writes += 1) {
        assert.ok(writes < 200, 'no write ever went to the stopped server');
        await store.write(newId(), { n: writes }); // rerouted to server 0: it still resolves
      }
      let text = await registry.metrics();
      assert.deepEqual(samples(text, 'session_pgsql_failovers_total'), [
        'session_pgsql_failovers_total{server="1"} 1',
      ]);
      assert.deepEqual(samples(text, 'session_pgsql_servers_up'), ['session_pgsql_servers_up 1']);
      assert.deepEqual(samples(text, 'session_pgsql_errors_total'), []);

      // the health checks' timer is unref()ed: keep the test alive while it waits
      const keepAlive = setInterval(() => {}, 1000);
      try {
        const recovered = once(store, 'recovery');
        await second.start();
        await recovered;
      } finally {
        clearInterval(keepAlive);
      }
      text = await registry.metrics();
      assert.deepEqual(samples(text, 'session_pgsql_recoveries_total'), [
        'session_pgsql_recoveries_total{server="1"} 1',
      ]);
      assert.deepEqual(samples(text, 'session_pgsql_servers_up'), ['session_pgsql_servers_up 2']);
      metrics.stop();
    });
  });
});
