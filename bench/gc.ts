/**
 * Collection at scale: a table of `sessions` rows of which `expired` have expired. The
 * time to delete them, and the p99 of reads running meanwhile (32 in flight) against the
 * p99 of the same reads just before, without collection. The rows are written with SQL
 * in each store's own table (created by the store), then refilled between rounds.
 */

import { sessionData, sessionId } from './fixtures.js';
import type { BenchPostgres } from './postgres.js';
import { Latencies, type LatencySummary, random, sleep } from './stats.js';
import { get } from './store-calls.js';
import type { OpenedStore, StoreVariant } from './stores.js';

export interface GcScale {
  readonly sessions: number;
  readonly expired: number;
  readonly concurrency: number;
  readonly baselineMillis: number;
  readonly lifetimeMillis: number;
}

export type ReadSummary = LatencySummary & {
  readonly opsPerSecond: number;
  readonly misses: number;
};

export interface GcRun {
  readonly collectMillis: number;
  readonly deleted: number;
  /** Statements of the collection, and the DELETEs among them. */
  readonly statements: number;
  readonly deletes: number;
  readonly rowsPerDelete: number;
  readonly baseline: ReadSummary;
  readonly during: ReadSummary;
  /** Reads that found no session (should be 0). */
  readonly misses: number;
}

/** sessionId('gc', i) in SQL. */
const idSql = `rpad('gc_' || lpad(i::text, 12, '0') || '_benchsession', 32, 'x')`;

/** SQL that fills a store's table, by store family. $1 the session JSON, $2..$3 the index range. */
const fill: Record<
  string,
  { table: string; insert: (expired: boolean) => string; countExpired: string }
> = {
  'session-pgsql': {
    table: 'php_session',
    // The key is the id's SHA-256 in base64url, as session-pgsql stores it (hashIds).
    insert: (expired) => `INSERT INTO php_session (sess_id, sess_name, sess_data, sess_created,
        sess_modified, sess_expire, sess_counter, sess_error, sess_warning, sess_notice)
      SELECT k, 'connect.sid', $1, t, t, t + ${expired ? '-3600' : '86400'}, 1, 0, 0, 0 FROM (
        SELECT translate(rtrim(encode(sha256(convert_to(${idSql}, 'UTF8')), 'base64'), '='), '+/', '-_') AS k,
               floor(extract(epoch FROM now()))::bigint AS t
        FROM generate_series($2::int, $3::int) i) s
      ORDER BY k`,
    countExpired: `SELECT count(*)::int AS n FROM php_session
      WHERE sess_expire < floor(extract(epoch FROM now())) AND sess_id <> '!gc'`,
  },
  'connect-pg-simple': {
    table: 'session',
    insert: (expired) => `INSERT INTO session (sid, sess, expire)
      SELECT ${idSql}, $1::json,
             now() + interval '${expired ? '-1 hour' : '1 day'}'
      FROM generate_series($2::int, $3::int) i`,
    countExpired: 'SELECT count(*)::int AS n FROM session WHERE expire < now()',
  },
};

function sqlFor(variant: StoreVariant) {
  const sql = fill[variant.family];
  if (!sql) throw new Error(`no collection fixture for ${variant.family}`);
  return sql;
}

/** The JSON each store keeps for a session (session-pgsql keeps the expiry in its row, not the cookie). */
function storedJson(variant: StoreVariant, lifetimeMillis: number): string {
  const data = sessionData(0, lifetimeMillis);
  if (variant.family === 'session-pgsql') delete data.cookie.expires;
  return JSON.stringify(data);
}

/** Fills the table: rows [0, expired) expired, the others live. */
export async function populate(
  variant: StoreVariant,
  opened: OpenedStore,
  postgres: BenchPostgres,
  database: string,
  scale: GcScale,
): Promise<void> {
  await get(opened.store, sessionId('gc', 0)); // the store creates its table
  const sql = sqlFor(variant);
  const json = storedJson(variant, scale.lifetimeMillis);
  await postgres.query(database, sql.insert(true), [json, 0, scale.expired - 1]);
  const chunk = 250_000; // several statements: smaller transactions, steadier memory
  for (let from = scale.expired; from < scale.sessions; from += chunk) {
    const to = Math.min(scale.sessions, from + chunk) - 1;
    await postgres.query(database, sql.insert(false), [json, from, to]);
  }
  await settle(postgres, database, sql.table);
  // The rows must be the store's: the first live one readable, the first expired one not.
  const live = await get(opened.store, sessionId('gc', scale.expired));
  const expired = await get(opened.store, sessionId('gc', 0));
  if (!live || expired) {
    throw new Error(
      `${variant.name}: the rows written for the collection do not read back as expected`,
    );
  }
}

/** Puts back the expired rows the last collection deleted. */
export async function refill(
  variant: StoreVariant,
  postgres: BenchPostgres,
  database: string,
  scale: GcScale,
): Promise<void> {
  const sql = sqlFor(variant);
  const json = storedJson(variant, scale.lifetimeMillis);
  await postgres.query(database, sql.insert(true), [json, 0, scale.expired - 1]);
  await settle(postgres, database, sql.table);
}

/** Same starting point for every store: no dead rows, fresh statistics, nothing left to flush. */
async function settle(postgres: BenchPostgres, database: string, table: string): Promise<void> {
  await postgres.query(database, `VACUUM ANALYZE ${table}`);
  await postgres.query(database, 'CHECKPOINT');
}

async function expiredRows(variant: StoreVariant, postgres: BenchPostgres, database: string) {
  const { rows } = await postgres.query(database, sqlFor(variant).countExpired);
  return Number(rows[0]?.n ?? 0);
}

/** Readers of live sessions, `concurrency` in flight; `stop` returns every read. */
function readers(opened: OpenedStore, scale: GcScale, seed: number) {
  const reads: Read[] = [];
  let stopped = false;
  let misses = 0;
  const live = scale.sessions - scale.expired;
  const worker = async (w: number) => {
    const choose = random(seed * 1000 + w);
    while (!stopped) {
      const index = scale.expired + Math.floor(choose() * live);
      const started = performance.now();
      const found = await get(opened.store, sessionId('gc', index));
      if (!found) misses++;
      reads.push({ started, millis: performance.now() - started });
    }
  };
  const done = Promise.all(Array.from({ length: scale.concurrency }, (_, w) => worker(w)));
  return {
    async stop(): Promise<{ reads: Read[]; misses: number }> {
      stopped = true;
      await done;
      return { reads, misses };
    },
  };
}

interface Read {
  readonly started: number;
  readonly millis: number;
}

/** The reads started within the windows [from, to). */
function summarize(
  reads: readonly Read[],
  windows: readonly (readonly [number, number])[],
  misses: number,
): ReadSummary {
  const latencies = new Latencies();
  for (const read of reads) {
    if (windows.some(([from, to]) => read.started >= from && read.started < to))
      latencies.add(read.millis);
  }
  const seconds = windows.reduce((sum, [from, to]) => sum + (to - from) / 1000, 0);
  const summary = latencies.summary();
  return { ...summary, opsPerSecond: summary.samples / seconds, misses };
}

/**
 * One round: the same reads run throughout; those started during the collection against
 * those started in the `baselineMillis` before it and the `baselineMillis` after it.
 */
export async function measure(
  variant: StoreVariant,
  opened: OpenedStore,
  postgres: BenchPostgres,
  database: string,
  scale: GcScale,
  seed: number,
): Promise<GcRun> {
  const collect = opened.collect?.bind(opened);
  if (!collect) throw new Error(`${variant.name} cannot collect`);
  const before = await expiredRows(variant, postgres, database);
  const statementsBefore = await opened.collectStatements?.();
  const reading = readers(opened, scale, seed);
  await sleep(250);
  const beforeFrom = performance.now();
  await sleep(scale.baselineMillis);
  const result = await collect();
  await sleep(scale.baselineMillis);
  const afterTo = performance.now();
  const { reads, misses } = await reading.stop();
  const after = await expiredRows(variant, postgres, database);
  const statementsAfter = await opened.collectStatements?.();
  const statements = (statementsAfter?.all ?? Number.NaN) - (statementsBefore?.all ?? 0);
  const deletes = (statementsAfter?.deletes ?? Number.NaN) - (statementsBefore?.deletes ?? 0);
  const baseline = summarize(
    reads,
    [
      [beforeFrom, result.startedAt],
      [result.endedAt, afterTo],
    ],
    misses,
  );
  const during = summarize(reads, [[result.startedAt, result.endedAt]], misses);

  const deleted = before - after;
  return {
    collectMillis: result.endedAt - result.startedAt,
    deleted,
    statements,
    deletes,
    rowsPerDelete: deletes > 0 ? deleted / deletes : Number.NaN,
    baseline,
    during,
    misses,
  };
}
