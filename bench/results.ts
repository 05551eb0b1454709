/** The shape of bench/results/results.json, and the targets of issue 4 judged from it. */
import type { VariantCounts } from './counting.js';
import type { MemoryResult } from './memory.js';
import { type Spread, spread } from './stats.js';
import type { Operation } from './store-level.js';
import type { Family, StoreVariant } from './stores.js';

export interface VariantInfo {
  readonly id: string;
  readonly name: string;
  readonly family: Family | 'none';
  readonly cache: boolean;
  readonly shortCircuit: boolean;
}

export interface StoreLevelFigures {
  readonly opsPerSecond: Spread;
  readonly p50: Spread;
  readonly p99: Spread;
  /** CPU milliseconds per operation: the benchmark process (the store's client side), the database. */
  readonly cpuMillisPerOp: { readonly client: Spread; readonly database: Spread };
}

export interface HttpFigures {
  readonly requestsPerSecond: Spread;
  readonly p50: Spread;
  readonly p99: Spread;
  readonly cpuMillisPerRequest: {
    readonly node: Spread;
    readonly database: Spread;
    readonly loader: Spread;
  };
  /** The machine's 1-minute load average at the end of each run (other work slows everything). */
  readonly loadAverage: Spread;
  /** Non-2xx responses, connection errors and requests whose session was missing, all runs. */
  readonly failures: number;
}

export interface GcFigures {
  readonly collectMillis: Spread;
  readonly deleted: Spread;
  readonly statements: Spread;
  readonly deletes: Spread;
  readonly rowsPerDelete: Spread;
  readonly p99Without: Spread;
  readonly p99During: Spread;
  /** p99 during collection / p99 without, per round. */
  readonly p99Ratio: Spread;
  readonly readsPerSecondWithout: Spread;
  readonly readsPerSecondDuring: Spread;
  readonly samplesDuring: Spread;
  readonly misses: number;
}

export interface Target {
  readonly text: string;
  readonly variant: string;
  readonly measured: string;
  readonly required: string;
  /** `null`: not measured in this run. */
  readonly met: boolean | null;
  readonly note: string;
}

export interface Results {
  readonly meta: {
    readonly startedAt: string;
    durationSeconds: number;
    readonly quick: boolean;
    readonly rounds: number;
    readonly node: string;
    readonly postgres: string;
    readonly redis: string | null;
    readonly cpu: string;
    readonly cores: number;
    readonly memoryGB: number;
    readonly loadAverage: { readonly start: readonly number[]; end: readonly number[] };
    readonly settings: Record<string, unknown>;
  };
  readonly variants: readonly VariantInfo[];
  readonly skipped: readonly { readonly id: string; readonly reason: string }[];
  readonly storeLevel: Record<string, Partial<Record<Operation, StoreLevelFigures>>>;
  readonly http: Record<string, HttpFigures>;
  readonly counts: Record<string, VariantCounts>;
  readonly gc: Record<string, GcFigures>;
  readonly memory: Record<string, MemoryResult>;
  targets: Target[];
}

export function variantInfo(variant: StoreVariant): VariantInfo {
  return {
    id: variant.id,
    name: variant.name,
    family: variant.family,
    cache: variant.cache === true,
    shortCircuit: variant.shortCircuit === true,
  };
}

export const noSession: VariantInfo = {
  id: 'none',
  name: 'no session (Express only)',
  family: 'none',
  cache: false,
  shortCircuit: false,
};

/** Collects per-round values under a key, then turns them into spreads. */
export class Runs<K extends string> {
  readonly #values = new Map<string, number[]>();

  add(key: K, value: number): void {
    const list = this.#values.get(key) ?? [];
    list.push(value);
    this.#values.set(key, list);
  }

  spread(key: K): Spread {
    return spread(this.#values.get(key) ?? []);
  }
}

const times = (n: number) => `${n.toFixed(2)}x`;

/** Why a multiple of connect-pg-simple may be out of reach: how it compares with MemoryStore. */
function ceiling(cps: number, memory: number | undefined): string {
  if (memory === undefined) return '';
  return `; MemoryStore, the ceiling, is ${times(memory / cps)} connect-pg-simple in this run, so 2.5x connect-pg-simple is ${times((2.5 * cps) / memory)} MemoryStore`;
}

const range = (s: Spread, digits = 0) => `${s.min.toFixed(digits)}–${s.max.toFixed(digits)}`;

/** What separates a store from connect-redis over HTTP: CPU per request, and how much the rounds moved. */
function versusRedis(mine: HttpFigures, redis: HttpFigures, shortCircuit: boolean): string {
  const cpu = (h: HttpFigures) =>
    `${(h.cpuMillisPerRequest.node.median * 1000).toFixed(0)} + ${(h.cpuMillisPerRequest.database.median * 1000).toFixed(0)} µs`;
  return `; CPU per request (Node + database, sharing the same 2 cores): ${cpu(mine)}, connect-redis ${cpu(redis)}${shortCircuit ? '' : ' (without the short circuit each read-only request also writes its row)'}; req/s across rounds ${range(mine.requestsPerSecond)}, connect-redis ${range(redis.requestsPerSecond)}`;
}

/** Why the mix without the short circuit is slower: each touch writes its row. */
function touchCost(results: Results, id: string): string {
  const db = (variant: string) => results.storeLevel[variant]?.mix?.cpuMillisPerOp.database.median;
  const mine = db(id);
  const shortCircuit = results.variants.find((v) => v.shortCircuit && !v.cache);
  const theirs = shortCircuit ? db(shortCircuit.id) : undefined;
  if (mine === undefined || theirs === undefined) return '';
  return `; without the short circuit every touch writes its row, as session_pgsql did (a new row version and an entry in each of the table's two indexes): ${(mine * 1000).toFixed(0)} µs of PostgreSQL CPU per operation, against ${(theirs * 1000).toFixed(0)} µs with it`;
}

/** The targets of issue 4, judged on the medians. */
export function judgeTargets(results: Results): Target[] {
  const targets: Target[] = [];
  const http = results.http;
  const cps = http['connect-pg-simple']?.requestsPerSecond.median;
  const redis = http['connect-redis'];
  const memory = http.memory?.requestsPerSecond.median;
  const pgsql = results.variants.filter((v) => v.family === 'session-pgsql');

  for (const v of pgsql.filter((x) => !x.cache)) {
    const mine = http[v.id];
    if (!mine) continue;
    const rps = mine.requestsPerSecond.median;
    if (cps !== undefined) {
      const ratio = rps / cps;
      targets.push({
        text: 'HTTP read-mostly req/s >= 2.5x connect-pg-simple (without cache)',
        variant: v.name,
        measured: times(ratio),
        required: '>= 2.50x',
        met: ratio >= 2.5,
        note:
          ratio >= 2.5
            ? ''
            : `missed by ${((1 - ratio / 2.5) * 100).toFixed(0)}% (needs ${(2.5 * cps).toFixed(0)} req/s, has ${rps.toFixed(0)})${ceiling(cps, memory)}`,
      });
    }
    if (redis) {
      const ratio = rps / redis.requestsPerSecond.median;
      targets.push({
        text: 'HTTP read-mostly req/s >= 0.9x connect-redis (without cache)',
        variant: v.name,
        measured: times(ratio),
        required: '>= 0.90x',
        met: ratio >= 0.9,
        note:
          ratio >= 0.9
            ? ''
            : `missed by ${((1 - ratio / 0.9) * 100).toFixed(0)}% (needs ${(0.9 * redis.requestsPerSecond.median).toFixed(0)} req/s, has ${rps.toFixed(0)})${versusRedis(mine, redis, v.shortCircuit)}`,
      });
      const p99 = mine.p99.median;
      const limit = redis.p99.median;
      targets.push({
        text: 'HTTP p99 no worse than connect-redis',
        variant: v.name,
        measured: `${p99.toFixed(1)} ms`,
        required: `<= ${limit.toFixed(1)} ms`,
        met: p99 <= limit,
        note:
          p99 <= limit
            ? ''
            : `${(p99 - limit).toFixed(1)} ms (${times(p99 / limit)}) over; p99 across rounds ${range(mine.p99)} ms, connect-redis's ${range(redis.p99)} ms`,
      });
    }
  }

  for (const v of pgsql.filter((x) => x.shortCircuit)) {
    const counted = results.counts[v.id]?.http.readOnly;
    if (!counted) continue;
    const writes = counted.rowsWritten ?? counted.writeStatements;
    targets.push({
      text: 'Database writes per read-only request inside the short-circuit window = 0',
      variant: v.name,
      measured: writes.toFixed(3),
      required: '0',
      met: writes === 0 && counted.writeStatements === 0,
      note: `connect-pg-simple: ${results.counts['connect-pg-simple']?.http.readOnly.rowsWritten?.toFixed(3) ?? 'not measured'}`,
    });
  }

  const cpsMix = results.storeLevel['connect-pg-simple']?.mix?.opsPerSecond.median;
  for (const v of pgsql) {
    const mix = results.storeLevel[v.id]?.mix?.opsPerSecond.median;
    if (mix === undefined || cpsMix === undefined) continue;
    const ratio = mix / cpsMix;
    targets.push({
      text: 'Store-level request mix >= 4x connect-pg-simple',
      variant: v.name,
      measured: times(ratio),
      required: '>= 4.00x',
      met: ratio >= 4,
      note:
        ratio >= 4
          ? ''
          : `missed by ${((1 - ratio / 4) * 100).toFixed(0)}% (needs ${(4 * cpsMix).toFixed(0)} ops/s, has ${mix.toFixed(0)})${v.shortCircuit ? '' : touchCost(results, v.id)}`,
    });
  }

  for (const [id, gc] of Object.entries(results.gc)) {
    const variant = results.variants.find((v) => v.id === id);
    // connect-pg-simple's prune is measured as the reference, not judged.
    if (variant?.family !== 'session-pgsql') continue;
    const name = variant.name;
    const ratio = gc.p99Ratio.median;
    const reference = results.gc['connect-pg-simple']?.p99Ratio.median;
    targets.push({
      text: 'Collection: p99 of concurrent reads during collection <= 1.5x without',
      variant: name,
      measured: `${times(ratio)} (median of the rounds' ratios; p99 medians ${gc.p99Without.median.toFixed(1)} -> ${gc.p99During.median.toFixed(1)} ms)`,
      required: '<= 1.50x',
      met: ratio <= 1.5,
      note: `${ratio <= 1.5 ? '' : `missed by ${((ratio / 1.5 - 1) * 100).toFixed(0)}%; `}connect-pg-simple's prune: ${reference === undefined ? 'not measured' : times(reference)}`,
    });
    const rows = gc.rowsPerDelete.max;
    targets.push({
      text: 'Collection: no statement locks more than one batch (gcBatchSize, default 1000)',
      variant: name,
      measured: `${rows.toFixed(0)} rows per DELETE at most (${gc.deletes.median} DELETEs, ${gc.statements.median} statements in all)`,
      required: '<= 1000 rows per DELETE',
      met: rows <= 1000,
      note: 'a batch deletes the keys one SELECT ... LIMIT gcBatchSize found',
    });
  }

  const cached = pgsql.filter((v) => v.cache);
  if (cached.length === 0) {
    targets.push({
      text: 'With the cache: HTTP >= 1.0x connect-redis and within 10% of MemoryStore',
      variant: 'session-pgsql (cache)',
      measured: 'not measured',
      required: '>= 1.00x redis, >= 0.90x MemoryStore',
      met: null,
      note: 'no cache variant in this run: add one line to bench/stores.ts once the cache option is ready',
    });
  }
  for (const v of cached) {
    const mine = http[v.id];
    if (mine === undefined) continue;
    const rps = mine.requestsPerSecond.median;
    if (redis) {
      const ratio = rps / redis.requestsPerSecond.median;
      targets.push({
        text: 'With the cache: HTTP >= 1.0x connect-redis',
        variant: v.name,
        measured: times(ratio),
        required: '>= 1.00x',
        met: ratio >= 1,
        note:
          ratio >= 1
            ? ''
            : `missed by ${((1 - ratio) * 100).toFixed(0)}%${versusRedis(mine, redis, true)}`,
      });
    }
    if (memory !== undefined) {
      const ratio = rps / memory;
      targets.push({
        text: 'With the cache: HTTP within 10% of MemoryStore',
        variant: v.name,
        measured: times(ratio),
        required: '>= 0.90x',
        met: ratio >= 0.9,
        note: ratio >= 0.9 ? '' : `missed by ${((1 - ratio / 0.9) * 100).toFixed(0)}%`,
      });
    }
  }

  for (const [id, m] of Object.entries(results.memory)) {
    const v = results.variants.find((x) => x.id === id);
    targets.push({
      text: 'Memory flat (no growth) after the first 100,000 writes (target: with the cache on)',
      variant: v?.name ?? id,
      measured: `${m.heapGrowthMB >= 0 ? '+' : ''}${m.heapGrowthMB.toFixed(1)} MB retained heap, RSS ${m.rssAtFirstCheckpointMB.toFixed(0)} -> ${m.rssAtEndMB.toFixed(0)} MB`,
      required: '<= +4 MB retained heap',
      met: m.flat,
      note: v?.cache ? '' : 'measured without a cache (no cache variant in this run)',
    });
  }
  return targets;
}
