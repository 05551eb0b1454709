/** What every phase of the benchmark shares: the servers, the stores, progress output. */
import type { BenchConfig } from './config.js';
import type { BenchPostgres } from './postgres.js';
import type { BenchRedis } from './redis.js';
import type { Workload } from './store-level.js';
import type { StoreTarget, StoreVariant } from './stores.js';

export interface BenchContext {
  readonly config: BenchConfig;
  /** The PostgreSQL of every timed run. */
  readonly postgres: BenchPostgres;
  /** The PostgreSQL with pg_stat_statements, for counting only. */
  readonly counting: BenchPostgres | undefined;
  readonly redis: BenchRedis | undefined;
  readonly variants: readonly StoreVariant[];
  readonly workload: Workload;
  readonly serverSettings: {
    readonly sessions: number;
    readonly lifetimeMillis: number;
    readonly cpuProfileDir: string | undefined;
  };
  log(message: string): void;
}

/** The database of a variant for one purpose (`bench`, `gc`, `mem`, `count`). */
export function databaseName(purpose: string, variant: StoreVariant): string {
  return `${purpose}_${variant.id.replaceAll('-', '_')}`;
}

/** Where the variant keeps its sessions on the main servers. */
export async function targetOf(
  ctx: BenchContext,
  variant: StoreVariant,
  purpose: string,
): Promise<StoreTarget> {
  if (variant.backend === 'postgres') {
    return { postgresUrl: await ctx.postgres.database(databaseName(purpose, variant)) };
  }
  if (variant.backend === 'redis') return { redisUrl: ctx.redis?.url };
  return {};
}

/** Round r visits the items starting at a different one each time. */
export function rotate<T>(items: readonly T[], round: number): T[] {
  const shift = items.length === 0 ? 0 : round % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

export const fmt = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '–';
