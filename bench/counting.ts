/**
 * Statements per operation and database writes per request, counted by the servers
 * themselves: PostgreSQL's pg_stat_statements on the counting server (a second,
 * identical PostgreSQL, so the extension never slows a timed run), Redis's INFO
 * commandstats. Counting runs do a fixed number of operations; they are not timed.
 */
import { load, ServerProcess, type ServerSettings } from './http-level.js';
import type { BenchPostgres, Counts } from './postgres.js';
import type { BenchRedis } from './redis.js';
import { operations, prepare, run, type Workload } from './store-level.js';
import type { StoreTarget, StoreVariant } from './stores.js';

/** Per operation (store level) or per request (HTTP level). */
export interface PerOperation {
  /** Statements (PostgreSQL) or commands (Redis) per operation: round trips. */
  readonly statements: number;
  /** INSERT/UPDATE/DELETE statements, or Redis write commands, per operation. */
  readonly writeStatements: number;
  /** Rows inserted, updated or deleted per operation; `null` for Redis. */
  readonly rowsWritten: number | null;
  /** The statements behind these figures, with their mean execution time. */
  readonly detail: readonly {
    query: string;
    perOperation: number;
    meanExecMillis: number | null;
  }[];
}

export interface VariantCounts {
  readonly storeLevel: Readonly<Record<string, PerOperation>>;
  readonly http: {
    readonly readOnly: PerOperation;
    readonly mix: PerOperation;
  };
}

/** Redis commands that change data. */
const redisWrites = new Set(['set', 'setex', 'expire', 'pexpire', 'del', 'unlink', 'getex']);
/** Commands of our own connection, not the store's. */
const redisOwn = /^(info|config|hello|client|ping|command)/;

/** Counts for one store variant, on its own database; `undefined` for in-process stores. */
export interface Counter {
  readonly target: StoreTarget;
  reset(): Promise<void>;
  read(): Promise<Counts>;
}

export async function counterFor(
  variant: StoreVariant,
  counting: BenchPostgres,
  redis: BenchRedis | undefined,
): Promise<Counter | undefined> {
  if (variant.backend === 'postgres') {
    const database = `count_${variant.id.replaceAll('-', '_')}`;
    const url = await counting.database(database);
    return {
      target: { postgresUrl: url },
      reset: () => counting.resetCounts(database),
      read: () => counting.counts(database),
    };
  }
  if (variant.backend === 'redis' && redis) {
    return {
      target: { redisUrl: redis.url },
      reset: () => redis.resetCounts(),
      async read() {
        const byStatement = [...(await redis.commandCounts())]
          .filter(([name]) => !redisOwn.test(name))
          .map(([name, calls]) => ({
            query: name.toUpperCase(),
            calls,
            rows: 0,
            meanExecMillis: Number.NaN,
            write: redisWrites.has(name),
          }));
        const statements = byStatement.reduce((sum, s) => sum + s.calls, 0);
        const writeStatements = byStatement.reduce((sum, s) => sum + (s.write ? s.calls : 0), 0);
        return { statements, writeStatements, rowsWritten: Number.NaN, byStatement };
      },
    };
  }
  return undefined;
}

function perOperation(counts: Counts, operationCount: number): PerOperation {
  const per = (n: number) => n / operationCount;
  return {
    statements: per(counts.statements),
    writeStatements: per(counts.writeStatements),
    rowsWritten: Number.isNaN(counts.rowsWritten) ? null : per(counts.rowsWritten),
    detail: counts.byStatement.map((s) => ({
      query: s.query,
      perOperation: per(s.calls),
      meanExecMillis: Number.isNaN(s.meanExecMillis) ? null : s.meanExecMillis,
    })),
  };
}

export async function countVariant(
  variant: StoreVariant,
  counter: Counter,
  workload: Workload,
  server: ServerSettings,
  operationsPerRun: number,
): Promise<VariantCounts> {
  const storeLevel: Record<string, PerOperation> = {};
  const opened = await variant.open(counter.target);
  try {
    const loaded = await prepare(opened.store, workload);
    for (const op of operations) {
      await counter.reset();
      const result = await run(op, opened.store, loaded, workload, {
        operations: operationsPerRun,
      });
      storeLevel[op] = perOperation(await counter.read(), result.operations);
    }
  } finally {
    await opened.close();
  }

  const proc = await ServerProcess.start(variant.id, counter.target, server);
  try {
    const settings = {
      sessions: server.sessions,
      connections: workload.concurrency,
      seed: workload.seed,
    };
    const measure = async (readShare: number) => {
      await counter.reset();
      const before = await proc.counts();
      await load(proc.port, { ...settings, readShare }, { amount: operationsPerRun });
      const after = await proc.counts();
      const served = after.reads + after.writes - before.reads - before.writes;
      return perOperation(await counter.read(), served);
    };
    const readOnly = await measure(1);
    const mix = await measure(workload.readShare);
    return { storeLevel, http: { readOnly, mix } };
  } finally {
    await proc.stop();
  }
}
