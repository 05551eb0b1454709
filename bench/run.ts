/**
 * `npm run bench`: session-pgsql against connect-pg-simple, connect-redis and
 * express-session's MemoryStore, side by side on one PostgreSQL (and one Redis) started
 * here, in interleaved rounds. Writes bench/results/results.{json,md} and chart.svg.
 * Environment variables: see bench/config.ts (BENCH_QUICK=1 for a smoke run).
 */
import { mkdirSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { config } from './config.js';
import type { BenchContext } from './context.js';
import { countPhase, gcPhase, httpPhase, memoryPhase, populateGc, storePhase } from './phases.js';
import { BenchPostgres } from './postgres.js';
import { startRedis } from './redis.js';
import { writeReport } from './report.js';
import { judgeTargets, type Results, variantInfo } from './results.js';
import { variants as allVariants } from './stores.js';

const started = performance.now();
const startedAt = new Date();
const loadAtStart = loadavg();
const dataRoot = fileURLToPath(new URL('./.data', import.meta.url));
const resultsDir = fileURLToPath(new URL('./results', import.meta.url));
mkdirSync(dataRoot, { recursive: true });

function log(message: string): void {
  const seconds = Math.round((performance.now() - started) / 1000);
  const clock = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
  console.log(`[${clock}] ${message}`);
}

const has = (phase: (typeof config.phases)[number]) => config.phases.includes(phase);

log(
  `session-pgsql benchmark${config.quick ? ' (QUICK smoke run)' : ''}: ${config.rounds} round(s), phases ${config.phases.join(', ')}; load average ${loadAtStart.map((l) => l.toFixed(2)).join(' ')}`,
);

const [postgres, counting, redis] = await Promise.all([
  BenchPostgres.start(false),
  has('count') ? BenchPostgres.start(true) : Promise.resolve(undefined),
  startRedis(dataRoot),
]);
const postgresVersion = await postgres.version();
log(
  `PostgreSQL ${postgresVersion} on port ${postgres.server.port}${counting ? ` (counting server on ${counting.server.port})` : ''}; ${redis ? `Redis ${redis.version} at ${redis.url}` : 'redis-server not found: connect-redis skipped'}`,
);

const skipped: { id: string; reason: string }[] = [];
const variants = allVariants.filter((v) => {
  if (config.storeFilter && !config.storeFilter.some((f) => v.id.includes(f))) return false;
  if (v.backend === 'redis' && !redis) {
    skipped.push({ id: v.id, reason: 'redis-server not found' });
    return false;
  }
  return true;
});

const ctx: BenchContext = {
  config,
  postgres,
  counting,
  redis,
  variants,
  workload: {
    sessions: config.sessions,
    concurrency: config.concurrency,
    readShare: config.readShare,
    lifetimeMillis: config.lifetimeMillis,
    seed: 42,
  },
  serverSettings: {
    sessions: config.sessions,
    lifetimeMillis: config.lifetimeMillis,
    cpuProfileDir: config.cpuProfile
      ? fileURLToPath(new URL('./.data/profiles', import.meta.url))
      : undefined,
  },
  log,
};

const results: Results = {
  meta: {
    startedAt: startedAt.toISOString(),
    durationSeconds: 0,
    quick: config.quick,
    rounds: config.rounds,
    node: process.version,
    postgres: postgresVersion,
    redis: redis?.version ?? null,
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memoryGB: Math.round(totalmem() / 1e9),
    loadAverage: { start: loadAtStart, end: [] },
    settings: { ...config },
  },
  variants: variants.map(variantInfo),
  skipped,
  storeLevel: {},
  http: {},
  counts: {},
  gc: {},
  memory: {},
  targets: [],
};

try {
  // The untimed work runs first, the memory measurement beside the rest of it.
  const untimed = async () => {
    const counts = has('count') ? await countPhase(ctx) : {};
    if (has('gc')) await populateGc(ctx);
    return counts;
  };
  const [counts, memory] = await Promise.all([untimed(), has('memory') ? memoryPhase(ctx) : {}]);
  Object.assign(results.counts, counts);
  Object.assign(results.memory, memory);
  if (has('store')) Object.assign(results.storeLevel, await storePhase(ctx));
  if (has('http')) Object.assign(results.http, await httpPhase(ctx));
  if (has('gc')) Object.assign(results.gc, await gcPhase(ctx));
} finally {
  await redis?.stop();
  await counting?.stop();
  await postgres.stop();
}

results.meta.loadAverage.end = loadavg();
results.meta.durationSeconds = Math.round((performance.now() - started) / 1000);
results.targets = judgeTargets(results);
const written = writeReport(results, resultsDir);
log(`done in ${results.meta.durationSeconds} s: ${written.join(', ')}`);
for (const t of results.targets) {
  const mark = t.met === null ? '  ?' : t.met ? ' ok' : ' NO';
  console.log(
    `${mark}  ${t.text} [${t.variant}]: ${t.measured} (required ${t.required})${t.note ? `; ${t.note}` : ''}`,
  );
}
process.exit(0);
