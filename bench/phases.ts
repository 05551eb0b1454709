/**
 * The benchmark's phases: each runs its measurement for every store, in interleaved
 * rounds (the stores in a different order each round), and returns medians with min–max.
 */
import { loadavg } from 'node:os';
import { type BenchContext, databaseName, fmt, rotate, targetOf } from './context.js';
import { counterFor, countVariant, type VariantCounts } from './counting.js';
import { measure as measureGc, populate, refill } from './gc.js';
import { timedRun } from './http-level.js';
import { type MemoryResult, measureMemory } from './memory.js';
import {
  type GcFigures,
  type HttpFigures,
  noSession,
  Runs,
  type StoreLevelFigures,
} from './results.js';
import { type Operation, operations, prepare, run } from './store-level.js';
import type { OpenedStore, StoreVariant } from './stores.js';

/** The process whose CPU time is the database's: the postmaster (with its backends) or redis-server. */
function databasePid(ctx: BenchContext, variant: StoreVariant): number | undefined {
  if (variant.backend === 'postgres') return ctx.postgres.server.pid;
  if (variant.backend === 'redis') return ctx.redis?.pid;
  return undefined;
}

/** Statements and writes per operation, on the counting server (not timed). */
export async function countPhase(ctx: BenchContext): Promise<Record<string, VariantCounts>> {
  const counts: Record<string, VariantCounts> = {};
  if (!ctx.counting) return counts;
  for (const variant of ctx.variants) {
    const counter = await counterFor(variant, ctx.counting, ctx.redis);
    if (!counter) continue;
    const c = await countVariant(
      variant,
      counter,
      ctx.workload,
      ctx.serverSettings,
      ctx.config.countOperations,
    );
    counts[variant.id] = c;
    ctx.log(
      `count  ${variant.name}: store mix ${fmt(c.storeLevel.mix?.statements ?? 0, 2)} statements/op; HTTP read-only request: ${fmt(c.http.readOnly.statements, 2)} statements, ${fmt(c.http.readOnly.writeStatements, 2)} writes`,
    );
  }
  return counts;
}

export async function storePhase(
  ctx: BenchContext,
): Promise<Record<string, Partial<Record<Operation, StoreLevelFigures>>>> {
  const runs = new Runs<string>();
  const { rounds } = ctx.config;
  for (let round = 0; round < rounds; round++) {
    for (const variant of rotate(ctx.variants, round)) {
      const opened = await variant.open(await targetOf(ctx, variant, 'bench'));
      try {
        const loaded = await prepare(opened.store, ctx.workload);
        const line: string[] = [];
        for (const op of operations) {
          const pid = databasePid(ctx, variant);
          const r = await run(op, opened.store, loaded, ctx.workload, ctx.config.storeLevel, pid);
          runs.add(`${variant.id}/${op}/ops`, r.opsPerSecond);
          runs.add(`${variant.id}/${op}/p50`, r.latency.p50);
          runs.add(`${variant.id}/${op}/p99`, r.latency.p99);
          runs.add(`${variant.id}/${op}/cpuClient`, r.cpuMillisPerOp.client);
          runs.add(`${variant.id}/${op}/cpuDatabase`, r.cpuMillisPerOp.database);
          line.push(`${op} ${fmt(r.opsPerSecond)}/s p99 ${fmt(r.latency.p99, 1)} ms`);
        }
        ctx.log(`store  round ${round + 1}/${rounds} ${variant.name}: ${line.join(', ')}`);
      } finally {
        await opened.close();
      }
    }
  }
  const figures: Record<string, Partial<Record<Operation, StoreLevelFigures>>> = {};
  for (const variant of ctx.variants) {
    const byOp: Partial<Record<Operation, StoreLevelFigures>> = {};
    for (const op of operations) {
      byOp[op] = {
        opsPerSecond: runs.spread(`${variant.id}/${op}/ops`),
        p50: runs.spread(`${variant.id}/${op}/p50`),
        p99: runs.spread(`${variant.id}/${op}/p99`),
        cpuMillisPerOp: {
          client: runs.spread(`${variant.id}/${op}/cpuClient`),
          database: runs.spread(`${variant.id}/${op}/cpuDatabase`),
        },
      };
    }
    figures[variant.id] = byOp;
  }
  return figures;
}

export async function httpPhase(ctx: BenchContext): Promise<Record<string, HttpFigures>> {
  const runs = new Runs<string>();
  const failures = new Map<string, number>();
  const entries: { id: string; name: string; variant?: StoreVariant }[] = [
    { id: noSession.id, name: noSession.name },
    ...ctx.variants.map((variant) => ({ id: variant.id, name: variant.name, variant })),
  ];
  const { rounds, http } = ctx.config;
  for (let round = 0; round < rounds; round++) {
    for (const entry of rotate(entries, round)) {
      const variant = entry.variant;
      const target = variant ? await targetOf(ctx, variant, 'bench') : {};
      const r = await timedRun(
        entry.id,
        target,
        variant ? databasePid(ctx, variant) : undefined,
        ctx.serverSettings,
        {
          sessions: ctx.config.sessions,
          connections: ctx.config.concurrency,
          readShare: ctx.config.readShare,
          seed: 7 + round,
        },
        http.warmupSeconds,
        http.durationSeconds,
      );
      const add = (key: string, value: number) => runs.add(`${entry.id}/${key}`, value);
      add('rps', r.requestsPerSecond);
      add('p50', r.p50);
      add('p99', r.p99);
      add('node', r.cpuMillisPerRequest.node);
      add('database', r.cpuMillisPerRequest.database);
      add('loader', r.cpuMillisPerRequest.loader);
      add('load', loadavg()[0] ?? 0);
      const failed = r.non2xx + r.errors + r.missing;
      failures.set(entry.id, (failures.get(entry.id) ?? 0) + failed);
      const cpu = r.cpuMillisPerRequest;
      ctx.log(
        `http   round ${round + 1}/${rounds} ${entry.name}: ${fmt(r.requestsPerSecond)} req/s, p99 ${fmt(r.p99)} ms (${fmt(r.reads)} reads, ${fmt(r.writes)} writes${failed ? `, ${failed} FAILED` : ''}); CPU per request: server ${fmt(cpu.node * 1000)} us, database ${fmt(cpu.database * 1000)} us`,
      );
    }
  }
  const figures: Record<string, HttpFigures> = {};
  for (const entry of entries) {
    const s = (key: string) => runs.spread(`${entry.id}/${key}`);
    figures[entry.id] = {
      requestsPerSecond: s('rps'),
      p50: s('p50'),
      p99: s('p99'),
      cpuMillisPerRequest: { node: s('node'), database: s('database'), loader: s('loader') },
      loadAverage: s('load'),
      failures: failures.get(entry.id) ?? 0,
    };
  }
  return figures;
}

function gcScale(ctx: BenchContext) {
  const { config } = ctx;
  return {
    sessions: config.gc.sessions,
    expired: config.gc.expired,
    concurrency: config.concurrency,
    baselineMillis: config.gc.baselineMillis,
    lifetimeMillis: config.lifetimeMillis,
  };
}

/**
 * Fills the tables of the collection measurement (not timed). Each store is closed
 * afterwards, so that its own background collection, scheduled lazily on first use,
 * cannot start during the measurement.
 */
export async function populateGc(ctx: BenchContext): Promise<void> {
  const scale = gcScale(ctx);
  for (const variant of ctx.variants.filter((v) => v.gc)) {
    const started = performance.now();
    const store = await variant.open(await targetOf(ctx, variant, 'gc'));
    try {
      await populate(variant, store, ctx.postgres, databaseName('gc', variant), scale);
    } finally {
      await store.close();
    }
    ctx.log(
      `gc     ${variant.name}: ${fmt(scale.sessions)} sessions (${fmt(scale.expired)} expired) written in ${fmt((performance.now() - started) / 1000, 1)} s`,
    );
  }
}

/** Collection at scale, on the tables populateGc filled. */
export async function gcPhase(ctx: BenchContext): Promise<Record<string, GcFigures>> {
  const collectors = ctx.variants.filter((v) => v.gc);
  const { config, postgres } = ctx;
  const scale = gcScale(ctx);
  const opened = new Map<string, OpenedStore>();
  const runs = new Runs<string>();
  const misses = new Map<string, number>();
  try {
    for (const variant of collectors) {
      opened.set(variant.id, await variant.open(await targetOf(ctx, variant, 'gc')));
    }
    for (let round = 0; round < config.rounds; round++) {
      for (const variant of rotate(collectors, round)) {
        const store = opened.get(variant.id);
        if (!store) continue;
        const database = databaseName('gc', variant);
        const r = await measureGc(variant, store, postgres, database, scale, 100 + round);
        const add = (key: string, value: number) => runs.add(`${variant.id}/${key}`, value);
        add('millis', r.collectMillis);
        add('deleted', r.deleted);
        add('statements', r.statements);
        add('deletes', r.deletes);
        add('rowsPerDelete', r.rowsPerDelete);
        add('p99Without', r.baseline.p99);
        add('p99During', r.during.p99);
        add('ratio', r.during.p99 / r.baseline.p99);
        add('opsWithout', r.baseline.opsPerSecond);
        add('opsDuring', r.during.opsPerSecond);
        add('samplesDuring', r.during.samples);
        misses.set(variant.id, (misses.get(variant.id) ?? 0) + r.misses);
        ctx.log(
          `gc     round ${round + 1}/${config.rounds} ${variant.name}: deleted ${fmt(r.deleted)} in ${fmt(r.collectMillis)} ms with ${fmt(r.statements)} statement(s), ${fmt(r.deletes)} DELETE(s); read p99 ${fmt(r.baseline.p99, 1)} ms without, ${fmt(r.during.p99, 1)} ms during (${fmt(r.during.samples)} reads)`,
        );
        if (round + 1 < config.rounds) await refill(variant, postgres, database, scale);
      }
    }
  } finally {
    for (const store of opened.values()) await store.close();
  }
  const figures: Record<string, GcFigures> = {};
  for (const variant of collectors) {
    const s = (key: string) => runs.spread(`${variant.id}/${key}`);
    figures[variant.id] = {
      collectMillis: s('millis'),
      deleted: s('deleted'),
      statements: s('statements'),
      deletes: s('deletes'),
      rowsPerDelete: s('rowsPerDelete'),
      p99Without: s('p99Without'),
      p99During: s('p99During'),
      p99Ratio: s('ratio'),
      readsPerSecondWithout: s('opsWithout'),
      readsPerSecondDuring: s('opsDuring'),
      samplesDuring: s('samplesDuring'),
      misses: misses.get(variant.id) ?? 0,
    };
  }
  return figures;
}

/**
 * Memory over many writes, in a fresh process per store. Not a timed measurement, so it
 * runs alongside the untimed work (counting, filling the collection tables); its
 * database is dropped afterwards.
 */
export async function memoryPhase(ctx: BenchContext): Promise<Record<string, MemoryResult>> {
  const results: Record<string, MemoryResult> = {};
  for (const variant of ctx.variants.filter((v) => v.memory)) {
    const started = performance.now();
    results[variant.id] = await measureMemory(
      variant.id,
      await targetOf(ctx, variant, 'mem'),
      { ...ctx.config.memory, lifetimeMillis: ctx.config.lifetimeMillis },
      (writes, sample) => {
        const rate = writes / ((performance.now() - started) / 1000);
        ctx.log(
          `memory ${variant.name}: ${fmt(writes)} writes (${fmt(rate)}/s), RSS ${fmt(sample.rssBytes / 1_048_576)} MB, heap after GC ${fmt(sample.heapUsedBytes / 1_048_576, 1)} MB`,
        );
      },
    );
    if (variant.backend === 'postgres')
      await ctx.postgres.dropDatabase(databaseName('mem', variant));
  }
  await ctx.postgres.query('postgres', 'CHECKPOINT');
  return results;
}
