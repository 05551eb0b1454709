import { Counter, register as defaultRegistry, Gauge, Histogram, type Registry } from 'prom-client';
import type { GcResult } from '../gc/garbage-collector.js';
import type { CacheLookupEvent, OperationEvent } from '../store/operation-events.js';
import type { SessionPgsql } from '../store/store.js';
import type { HealthEvent } from '../store/store-types.js';

export interface PrometheusMetricsOptions {
  /** Where the metrics are registered. Default: prom-client's default registry. */
  readonly registry?: Registry | undefined;
  /** Prefix of every metric name. Default `session_pgsql_`. */
  readonly prefix?: string | undefined;
}

export interface PrometheusMetrics {
  /** Stops listening to the store and removes the metrics from the registry. */
  stop(): void;
}

/** Seconds: from a cached read (well under a millisecond) to a statement near its timeout. */
const OPERATION_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
const GC_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300];

/**
 * Prometheus metrics of a store, from its events: operations by outcome, their latency,
 * errors by code, failovers, recoveries, collections, cache hits and the servers up.
 * No label holds a session id or data.
 */
export function prometheusMetrics<Data>(
  store: SessionPgsql<Data>,
  options: PrometheusMetricsOptions = {},
): PrometheusMetrics {
  const registry = options.registry ?? defaultRegistry;
  const prefix = options.prefix ?? 'session_pgsql_';
  const registers = [registry];
  const operations = new Counter({
    name: `${prefix}operations_total`,
    help: 'Store calls by operation and outcome (skipped: answered by the short circuit)',
    labelNames: ['operation', 'outcome'] as const,
    registers,
  });
  const latency = new Histogram({
    name: `${prefix}operation_duration_seconds`,
    help: 'Duration of store calls, in seconds',
    labelNames: ['operation'] as const,
    buckets: OPERATION_BUCKETS,
    registers,
  });
  const errors = new Counter({
    name: `${prefix}errors_total`,
    help: 'Store calls that failed, by error code',
    labelNames: ['code'] as const,
    registers,
  });
  const failovers = new Counter({
    name: `${prefix}failovers_total`,
    help: 'Times a server was marked down, by its position in db',
    labelNames: ['server'] as const,
    registers,
  });
  const recoveries = new Counter({
    name: `${prefix}recoveries_total`,
    help: 'Times a server that was down answered again, by its position in db',
    labelNames: ['server'] as const,
    registers,
  });
  const collections = new Counter({
    name: `${prefix}gc_runs_total`,
    help: 'Garbage collections, by server',
    labelNames: ['server'] as const,
    registers,
  });
  const collected = new Counter({
    name: `${prefix}gc_deleted_rows_total`,
    help: 'Expired sessions deleted by garbage collection, by server',
    labelNames: ['server'] as const,
    registers,
  });
  const gcDuration = new Histogram({
    name: `${prefix}gc_duration_seconds`,
    help: 'Duration of garbage collections, in seconds',
    labelNames: ['server'] as const,
    buckets: GC_BUCKETS,
    registers,
  });
  const cacheLookups = new Counter({
    name: `${prefix}cache_lookups_total`,
    help: 'Reads on a cached server, by result (hit: answered from memory)',
    labelNames: ['result'] as const,
    registers,
  });
  const serverCount = store.options.db.kind === 'servers' ? store.options.db.servers.length : 1;
  const down = new Set<number>();
  new Gauge({
    name: `${prefix}servers_up`,
    help: 'Servers not known to be down (a server is down from a failover to its recovery)',
    registers,
    collect() {
      this.set(serverCount - down.size);
    },
  });
  const names = [
    'operations_total',
    'operation_duration_seconds',
    'errors_total',
    'failovers_total',
    'recoveries_total',
    'gc_runs_total',
    'gc_deleted_rows_total',
    'gc_duration_seconds',
    'cache_lookups_total',
    'servers_up',
  ].map((name) => `${prefix}${name}`);

  const onOperation = (event: OperationEvent) => {
    operations.inc({ operation: event.operation, outcome: event.outcome });
    latency.observe({ operation: event.operation }, event.durationMillis / 1000);
    if (event.outcome === 'error') errors.inc({ code: event.code ?? 'UNKNOWN' });
  };
  const onFailover = (event: HealthEvent) => {
    failovers.inc({ server: event.server });
    down.add(event.server);
  };
  const onRecovery = (event: HealthEvent) => {
    recoveries.inc({ server: event.server });
    down.delete(event.server);
  };
  const onGc = (result: GcResult) => {
    const server = result.server;
    collections.inc({ server });
    collected.inc({ server }, result.deleted);
    gcDuration.observe({ server }, result.durationMillis / 1000);
  };
  const onCacheLookup = (event: CacheLookupEvent) =>
    cacheLookups.inc({ result: event.hit ? 'hit' : 'miss' });

  store.on('operation', onOperation);
  store.on('failover', onFailover);
  store.on('recovery', onRecovery);
  store.on('gc', onGc);
  store.on('cacheLookup', onCacheLookup);
  let stopped = false;
  return Object.freeze({
    stop(): void {
      if (stopped) return;
      stopped = true;
      store.off('operation', onOperation);
      store.off('failover', onFailover);
      store.off('recovery', onRecovery);
      store.off('gc', onGc);
      store.off('cacheLookup', onCacheLookup);
      for (const name of names) registry.removeSingleMetric(name);
    },
  });
}
