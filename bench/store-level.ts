/**
 * Store level: express-session's Store API called directly (no HTTP), with a fixed
 * number of operations in flight. Operations: get, set, touch, and the request mix
 * (get then touch 90%, get then set 10%), on sessions created beforehand.
 */
import type session from 'express-session';
import { ownCpuMillis, treeCpuMillis } from './cpu.js';
import { type BenchSession, sessionData, sessionId } from './fixtures.js';
import { Latencies, type LatencySummary, random } from './stats.js';
import { eachLimited, get, set, touch } from './store-calls.js';

export const operations = ['get', 'set', 'touch', 'mix'] as const;
export type Operation = (typeof operations)[number];

export interface Workload {
  readonly sessions: number;
  readonly concurrency: number;
  readonly readShare: number;
  readonly lifetimeMillis: number;
  /** Seed of the mix's random choices, the same for every store. */
  readonly seed: number;
}

/** Either a timed run (warm-up, then measure) or a fixed number of operations (counting). */
export type RunLength =
  | { readonly warmupMillis: number; readonly durationMillis: number }
  | { readonly operations: number };

export interface OperationResult {
  readonly operations: number;
  readonly opsPerSecond: number;
  readonly latency: LatencySummary;
  /** CPU milliseconds per operation: this process (the store's client side), the database server. */
  readonly cpuMillisPerOp: { readonly client: number; readonly database: number };
}

/** The sessions of the store level, keyed by index, as `get` returned them. */
export type Loaded = Map<number, BenchSession>;

/** Creates the sessions, then reads each once (express-session's objects carry what `get` read). */
export async function prepare(store: session.Store, workload: Workload): Promise<Loaded> {
  const indexes = Array.from({ length: workload.sessions }, (_, i) => i);
  await eachLimited(indexes, workload.concurrency, (i) =>
    set(store, sessionId('st', i), sessionData(i, workload.lifetimeMillis)),
  );
  const loaded: Loaded = new Map();
  await eachLimited(indexes, workload.concurrency, async (i) => {
    const data = await get(store, sessionId('st', i));
    if (!data) throw new Error(`session ${i} was just written but cannot be read`);
    loaded.set(i, data);
  });
  return loaded;
}

/** What express-session does before saving or touching: the cookie's expiry moves on. */
function refreshCookie(data: BenchSession, lifetimeMillis: number): void {
  data.cookie.expires = new Date(Date.now() + lifetimeMillis).toISOString();
}

function operation(
  op: Operation,
  store: session.Store,
  loaded: Loaded,
  workload: Workload,
  choose: () => number,
): (index: number) => Promise<void> {
  const { lifetimeMillis } = workload;
  const loadedSession = (i: number) => {
    const data = loaded.get(i);
    if (!data) throw new Error(`session ${i} was not prepared`);
    return data;
  };
  switch (op) {
    case 'get':
      return async (i) => {
        if (!(await get(store, sessionId('st', i)))) throw new Error(`session ${i} is missing`);
      };
    case 'set':
      return (i) => {
        const data = loadedSession(i);
        data.views += 1;
        refreshCookie(data, lifetimeMillis);
        return set(store, sessionId('st', i), data);
      };
    case 'touch':
      return (i) => {
        const data = loadedSession(i);
        refreshCookie(data, lifetimeMillis);
        return touch(store, sessionId('st', i), data);
      };
    case 'mix':
      return async (i) => {
        const id = sessionId('st', i);
        const data = await get(store, id);
        if (!data) throw new Error(`session ${i} is missing`);
        refreshCookie(data, lifetimeMillis);
        if (choose() < workload.readShare) return touch(store, id, data);
        data.views += 1;
        return set(store, id, data);
      };
  }
}

/**
 * Runs one operation with `concurrency` workers; worker w uses sessions w, w + concurrency, ...
 * so that no two operations in flight share a session.
 */
export async function run(
  op: Operation,
  store: session.Store,
  loaded: Loaded,
  workload: Workload,
  length: RunLength,
  databasePid?: number,
): Promise<OperationResult> {
  const latencies = new Latencies();
  const started = performance.now();
  const timed = 'durationMillis' in length;
  const measureFrom = timed ? started + length.warmupMillis : started;
  const cpu = () => ({ client: ownCpuMillis(), database: treeCpuMillis(databasePid) });
  let cpuFrom = cpu();
  const warm = setTimeout(() => {
    cpuFrom = cpu();
  }, measureFrom - started);
  const end = timed ? measureFrom + length.durationMillis : Number.POSITIVE_INFINITY;
  const limit = timed ? Number.POSITIVE_INFINITY : length.operations;
  let begun = 0;
  let measured = 0;
  const worker = async (w: number) => {
    const choose = random(workload.seed * 1000 + w);
    const call = operation(op, store, loaded, workload, choose);
    const mine = Math.ceil((workload.sessions - w) / workload.concurrency);
    for (let n = 0; begun < limit; n++) {
      const opStart = performance.now();
      if (opStart >= end) break;
      begun++;
      await call(w + (n % mine) * workload.concurrency);
      if (opStart >= measureFrom) {
        latencies.add(performance.now() - opStart);
        measured++;
      }
    }
  };
  await Promise.all(Array.from({ length: workload.concurrency }, (_, w) => worker(w)));
  clearTimeout(warm);
  const elapsedSeconds = (performance.now() - measureFrom) / 1000;
  const cpuTo = cpu();
  const per = (millis: number) => (measured > 0 ? millis / measured : 0);
  return {
    operations: measured,
    opsPerSecond: measured / elapsedSeconds,
    latency: latencies.summary(),
    cpuMillisPerOp: {
      client: per(cpuTo.client - cpuFrom.client),
      database: per(cpuTo.database - cpuFrom.database),
    },
  };
}
