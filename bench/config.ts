/**
 * What the benchmark runs and for how long. The defaults follow issue 4 and fit the
 * whole run in about 13 minutes on a 2-core machine; `BENCH_QUICK=1` is a ~1-minute smoke run.
 *
 * Environment variables (all optional):
 * - BENCH_QUICK=1                 short everything (smoke run)
 * - BENCH_ROUNDS=3                interleaved repetitions of each timed measurement
 * - BENCH_PHASES=count,store,http,gc,memory   phases to run
 * - BENCH_STORES=pgsql,redis      only the store variants whose id contains one of these
 * - BENCH_STORE_SECONDS=2         store level: seconds per operation per store per round
 * - BENCH_HTTP_SECONDS=8          HTTP level: seconds per store per round
 * - BENCH_GC_SESSIONS=1000000     collection: sessions in the table...
 * - BENCH_GC_EXPIRED=200000       ...of which expired
 * - BENCH_MEMORY_WRITES=1000000   memory: session writes
 * - BENCH_CPU_PROF=1              write a V8 CPU profile of each HTTP server process to bench/.data/profiles
 */

const env = process.env;
const quick = env.BENCH_QUICK === '1';

function integer(name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw.replaceAll('_', ''));
  if (!Number.isInteger(value) || value <= 0) {
    throw new Error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function list(name: string): readonly string[] | undefined {
  const raw = env[name];
  if (!raw) return undefined;
  return raw
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

export type Phase = 'count' | 'store' | 'http' | 'gc' | 'memory';
const allPhases: readonly Phase[] = ['count', 'store', 'http', 'gc', 'memory'];

const phases = list('BENCH_PHASES') ?? allPhases;
for (const phase of phases) {
  if (!allPhases.includes(phase as Phase)) {
    throw new Error(`BENCH_PHASES: unknown phase "${phase}" (known: ${allPhases.join(', ')})`);
  }
}

const gcSessions = integer('BENCH_GC_SESSIONS', quick ? 50_000 : 1_000_000);
const memoryWrites = integer('BENCH_MEMORY_WRITES', quick ? 10_000 : 1_000_000);

export const config = Object.freeze({
  quick,
  rounds: integer('BENCH_ROUNDS', quick ? 1 : 3),
  phases: phases as readonly Phase[],
  storeFilter: list('BENCH_STORES'),
  cpuProfile: env.BENCH_CPU_PROF === '1',
  /** Sessions pre-created for the store and HTTP levels. */
  sessions: quick ? 200 : 1000,
  /** Operations (store level) or connections (HTTP level) in flight. */
  concurrency: 32,
  /** Share of requests that only read their session. */
  readShare: 0.9,
  /** Cookie and session lifetime. */
  lifetimeMillis: 24 * 3600 * 1000,
  storeLevel: Object.freeze({
    warmupMillis: quick ? 200 : 300,
    durationMillis: quick ? 400 : integer('BENCH_STORE_SECONDS', 2) * 1000,
  }),
  http: Object.freeze({
    warmupSeconds: 1,
    durationSeconds: integer('BENCH_HTTP_SECONDS', quick ? 2 : 8),
  }),
  /** Operations or requests per counting run (on the counting server). */
  countOperations: quick ? 200 : 2000,
  gc: Object.freeze({
    sessions: gcSessions,
    expired: integer('BENCH_GC_EXPIRED', Math.round(gcSessions / 5)),
    baselineMillis: quick ? 1000 : 3000,
  }),
  memory: Object.freeze({
    writes: memoryWrites,
    checkpointEvery: Math.max(1, Math.round(memoryWrites / 10)),
    sampleMillis: 100,
  }),
});

export type BenchConfig = typeof config;
