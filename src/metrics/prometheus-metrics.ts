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
  /** Names of the metrics registered, to remove on `stop`. */
  const names: string[] = [];
  const named = (name: string) => {
    const full = `${prefix}${name}`;
    names.push(full);
    return full;
  };
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Counter({ name: named(name), help, labelNames, registers });
  const histogram = <L extends string>(
    name: string,
    help: string,
    labelNames: readonly L[],
    buckets: number[],
  ) => new Histogram({ name: named(name), help, labelNames, buckets, registers });

  const operations = counter(
    'operations_total',
    'Store calls by operation and outcome (skipped: answered by the short circuit)',
    ['operation', 'outcome'],
  );
  const latency = histogram(
    'operation_duration_seconds',
    'Duration of store calls, in seconds',
    ['operation'],
    OPERATION_BUCKETS,
  );
  const errors = counter('errors_total', 'Store calls that failed, by error code', ['code']);
  const failovers = counter(
    'failovers_total',
    'Times a server was marked down, by its position in db',
    ['server'],
  );
  const recoveries = counter(
    'recoveries_total',
    'Times a server that was down answered again, by its position in db',
    ['server'],
  );
  const collections = counter('gc_runs_total', 'Garbage collections, by server', ['server']);
  const collected = counter(
    'gc_deleted_rows_total',
    'Expired sessions deleted by garbage collection, by server',
    ['server'],
  );
  const gcDuration = histogram(
    'gc_duration_seconds',
    'Duration of garbage collections, in seconds',
    ['server'],
    GC_BUCKETS,
  );
  const cacheLookups = counter(
    'cache_lookups_total',
    'Reads on a cached server, by result (hit: answered from memory)',
    ['result'],
  );
  const serverCount = store.options.db.kind === 'servers' ? store.options.db.servers.length : 1;
  const down = new Set<number>();
  new Gauge({
    name: named('servers_up'),
    help: 'Servers not known to be down (a server is down from a failover to its recovery)',
    registers,
    collect() {
      this.set(serverCount - down.size);
    },
  });

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
