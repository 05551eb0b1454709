/**
 * Shared pieces of the several-servers tests: three real PostgreSQL servers, a superuser
 * pool on each for looking at the tables the way an operator would, where a session is
 * placed, and a load generator that keeps the exact history of what the store acknowledged.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before } from 'node:test';
import pg from 'pg';
import {
  type SessionPgsql,
  SessionPgsqlError,
  type SessionPgsqlOptions,
  SessionPgsql as Store,
} from '../../src/index.js';
import { Rendezvous } from '../../src/routing/rendezvous.js';
import { type PostgresServer, startPostgres } from '../helpers/postgres.js';
import { storedKey } from '../helpers/stored-row.js';

export type Data = { v: number; pad?: string };

/** A fresh session id matching the default idPattern (32 characters of base64url). */
export function newId(): string {
  return randomBytes(24).toString('base64url');
}

export { storedKey } from '../helpers/stored-row.js';

let tables = 0;
/** A table name no other test of this process uses: each test starts from empty tables. */
export function uniqueTable(prefix = 'sessions'): string {
  tables += 1;
  return `${prefix}_${process.pid}_${tables}`;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface Fleet {
  readonly servers: readonly PostgresServer[];
  /** Superuser URL of database `sessions` on each server: the store's `db` entries. */
  readonly urls: readonly string[];
  /** Superuser pools on those databases. */
  readonly admins: readonly pg.Pool[];
  close(): Promise<void>;
}

/** Starts `count` servers (in parallel) with a database `sessions` on each. */
export async function startFleet(count: number, name: string): Promise<Fleet> {
  const servers = await Promise.all(
    Array.from({ length: count }, (_, i) => startPostgres({ name: `${name}${i}` })),
  );
  const urls = await Promise.all(servers.map((s) => s.createDatabase('sessions')));
  const admins = urls.map((url) => {
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    pool.on('error', () => {}); // a stopped server drops idle admin connections
    return pool;
  });
  return {
    servers,
    urls,
    admins,
    async close() {
      await Promise.all(admins.map((a) => a.end()));
      await Promise.all(servers.map((s) => s.destroy()));
    },
  };
}

export interface FleetSetup extends Fleet {
  /** Stores opened by the tests, closed after them. */
  readonly stores: ReturnType<typeof storeTracker>;
  /** A store's options on every server of the fleet: `settings`, on table `table`. */
  options(table: string): SessionPgsqlOptions<Data>;
}

/**
 * The usual setup of a test file: three servers started before its tests; after them,
 * every store closed and the servers (resumed if a test paused one) destroyed.
 */
export function useFleet(
  name: string,
  settings: Omit<SessionPgsqlOptions<Data>, 'db' | 'table'>,
): FleetSetup {
  const stores = storeTracker();
  let fleet: Fleet | undefined;
  before(async () => {
    fleet = await startFleet(3, name);
  });
  after(async () => {
    for (const server of fleet?.servers ?? []) server.resume();
    await stores.closeAll();
    await fleet?.close();
  });
  const started = () => {
    if (!fleet) throw new Error('the fleet is started before the tests');
    return fleet;
  };
  return {
    stores,
    get servers() {
      return started().servers;
    },
    get urls() {
      return started().urls;
    },
    get admins() {
      return started().admins;
    },
    close: () => started().close(),
    options: (table) => ({ db: [...started().urls], table, gcInterval: 0, ...settings }),
  };
}

/** Opens stores and closes every one of them in `closeAll`. */
export function storeTracker(): {
  open(options: SessionPgsqlOptions<Data>): SessionPgsql<Data>;
  closeAll(): Promise<void>;
} {
  const stores: SessionPgsql<Data>[] = [];
  return {
    open(options) {
      const store = new Store<Data>(options);
      stores.push(store);
      return store;
    },
    async closeAll() {
      await Promise.all(stores.splice(0).map((s) => s.close()));
    },
  };
}

export const quoted = (table: string) => pg.escapeIdentifier(table);

export interface StoredCopy {
  readonly server: number;
  readonly sess_id: string;
  readonly sess_name: string | null;
  readonly sess_data: string | null;
  readonly sess_modified: number;
}

/** Every row of `table` on every server (servers that are down are skipped). */
export async function rowsEverywhere(
  fleet: Fleet,
  table: string,
  skip: ReadonlySet<number> = new Set(),
): Promise<StoredCopy[]> {
  const all: StoredCopy[] = [];
  for (const [server, admin] of fleet.admins.entries()) {
    if (skip.has(server)) continue;
    const { rows } = await admin.query<Omit<StoredCopy, 'server'>>(
      `SELECT sess_id, sess_name, sess_data, sess_modified::float8 AS sess_modified
       FROM ${quoted(table)} ORDER BY sess_id`,
    );
    for (const row of rows) all.push({ server, ...row });
  }
  return all;
}

/** Number of rows of each server's table that are sessions (not markers or tombstones). */
export async function sessionCounts(fleet: Fleet, table: string): Promise<number[]> {
  return Promise.all(
    fleet.admins.map(async (admin) => {
      const { rows } = await admin.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM ${quoted(table)}
         WHERE sess_id NOT LIKE '!%' AND sess_data IS NOT NULL`,
      );
      return rows[0]?.n ?? 0;
    }),
  );
}

/** Failover markers and tombstones left on the servers (the '!gc' claim row aside). */
export async function bookkeepingRows(fleet: Fleet, table: string): Promise<StoredCopy[]> {
  const rows = await rowsEverywhere(fleet, table);
  return rows.filter(
    (r) => (r.sess_id.startsWith('!') && r.sess_id !== '!gc') || r.sess_name === '!destroyed',
  );
}

/**
 * Waits until every failover marker and tombstone has been handed back and removed.
 * A liveness check with a generous deadline, not a measurement.
 */
export async function waitForHandBack(fleet: Fleet, table: string): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const left = await bookkeepingRows(fleet, table);
    if (left.length === 0) return;
    if (Date.now() > deadline) {
      throw new Error(
        `failover bookkeeping never cleaned up: ${JSON.stringify(left.slice(0, 10))}`,
      );
    }
    await sleep(200);
  }
}

/** Waits for `predicate` (polled); a liveness check with a generous deadline. */
export async function waitUntil(
  what: string,
  predicate: () => boolean | Promise<boolean>,
  deadlineMillis = 90_000,
): Promise<void> {
  const deadline = Date.now() + deadlineMillis;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await sleep(50);
  }
}

/** The placement the store uses: rendezvous over its servers' (password-hidden) connections. */
export async function placement(store: SessionPgsql<Data>): Promise<(id: string) => number[]> {
  const { servers } = await store.status();
  const rendezvous = new Rendezvous(servers.map((s) => s.connection));
  return (id) => rendezvous.rank(storedKey(id));
}

/** `count` fresh ids whose first server in the store's order is `home`. */
export function idsHomedOn(order: (id: string) => number[], home: number, count: number): string[] {
  const ids: string[] = [];
  while (ids.length < count) {
    const id = newId();
    if (order(id)[0] === home) ids.push(id);
  }
  return ids;
}

export const errorCode = (error: unknown) =>
  error instanceof SessionPgsqlError ? error.code : `not a SessionPgsqlError: ${String(error)}`;

/* ------------------------------------------------------------------------------------------ */
/* Load: workers that each own some sessions and keep the exact acknowledged history of them. */
/* ------------------------------------------------------------------------------------------ */

/** `null` stands for "destroyed" (or never written). */
type Value = number | null;

export interface SessionHistory {
  readonly id: string;
  /** Value of the last acknowledged operation; `null` after an acknowledged destroy. */
  acked: Value;
  /**
   * Values the store may hold: the acknowledged one plus those of failed operations since
   * (a failed write may or may not have been applied).
   */
  possible: Set<Value>;
}

export interface Failure {
  readonly op: string;
  readonly code: string;
  readonly message: string;
  readonly startedAt: number;
  readonly endedAt: number;
}

export interface ReadAnomaly {
  readonly id: string;
  readonly got: Value;
  readonly possible: readonly Value[];
  /** When the read started (performance.now()). */
  readonly at: number;
}

export interface LoadReport {
  readonly ops: number;
  readonly failures: readonly Failure[];
  /** Reads that found nothing where the history says a session exists. */
  readonly missingReads: readonly ReadAnomaly[];
  /** Reads that returned a value the history rules out (older, or destroyed). */
  readonly staleReads: readonly ReadAnomaly[];
  readonly sessions: readonly SessionHistory[];
}

export interface Load {
  /** Operations completed so far (successful or not). */
  readonly ops: () => number;
  /** Operations that succeeded so far. */
  readonly successes: () => number;
  /** Lets the workers finish their current operation and resolves the report (once). */
  stop(): Promise<LoadReport>;
}

let nextValue = 0;

/**
 * Starts `workers` loops, each owning `sessionsPerWorker` sessions (so operations on one
 * session never overlap and "the last acknowledged value" is well defined). Each session
 * is first written once; then each loop picks one of its sessions at random and reads it,
 * touches it, reads and writes it back with the read state (a request), writes it blindly,
 * or destroys it.
 */
export async function startLoad(
  store: SessionPgsql<Data>,
  workers: number,
  sessionsPerWorker: number,
  ids: () => string = newId,
): Promise<Load> {
  const owned: SessionHistory[][] = [];
  for (let w = 0; w < workers; w++) {
    const sessions = Array.from({ length: sessionsPerWorker }, () => {
      const v = ++nextValue;
      return { id: ids(), acked: v, possible: new Set<Value>([v]) } as SessionHistory;
    });
    owned.push(sessions);
  }
  // every session exists before the load starts (this must not fail)
  const all = owned.flat();
  for (let i = 0; i < all.length; i += 16) {
    await Promise.all(
      all.slice(i, i + 16).map((s) => store.write(s.id, { v: s.acked as number, pad: 'x' })),
    );
  }
  const failures: Failure[] = [];
  const missingReads: ReadAnomaly[] = [];
  const staleReads: ReadAnomaly[] = [];
  let ops = 0;
  let successes = 0;
  let stopping = false;

  const checkRead = (s: SessionHistory, got: Value, at: number) => {
    if (s.possible.has(got)) return;
    const anomaly = { id: s.id, got, possible: [...s.possible], at };
    if (got === null) missingReads.push(anomaly);
    else staleReads.push(anomaly);
  };
  const settle = (s: SessionHistory, value: Value) => {
    s.acked = value;
    s.possible = new Set([value]);
  };

  async function worker(sessions: SessionHistory[]): Promise<void> {
    while (!stopping) {
      const s = sessions[Math.floor(Math.random() * sessions.length)] as SessionHistory;
      const dice = Math.random();
      const startedAt = performance.now();
      let op = 'read';
      /** Set just before a write or destroy is sent: what it may leave behind if it fails. */
      let sent: { value: Value } | undefined;
      try {
        if (dice < 0.3) {
          const loaded = await store.read(s.id);
          checkRead(s, loaded?.data?.v ?? null, startedAt);
        } else if (dice < 0.35) {
          op = 'touch'; // extends the expiry only: the value stays what it was
          await store.touch(s.id);
        } else if (dice < 0.7) {
          op = 'read+write';
          const loaded = await store.read(s.id);
          checkRead(s, loaded?.data?.v ?? null, startedAt);
          sent = { value: ++nextValue };
          await store.write(s.id, { v: sent.value as number, pad: 'x' }, { state: loaded?.state });
          settle(s, sent.value);
        } else if (dice < 0.85) {
          op = 'write';
          sent = { value: ++nextValue };
          await store.write(s.id, { v: sent.value as number, pad: 'x' });
          settle(s, sent.value);
        } else {
          op = 'destroy';
          sent = { value: null };
          await store.destroy(s.id);
          settle(s, null);
        }
        successes += 1;
      } catch (error) {
        if (sent) s.possible.add(sent.value);
        const code = errorCode(error);
        if (code === 'SPG_CLOSED') return; // a test gave up and closed the store
        failures.push({
          op,
          code,
          message: error instanceof Error ? error.message : String(error),
          startedAt,
          endedAt: performance.now(),
        });
        // A failure may come without any I/O: let timers (and the test) run.
        await new Promise((resolve) => setImmediate(resolve));
      }
      ops += 1;
    }
  }

  const running = owned.map((sessions) => worker(sessions));
  let stopped: Promise<LoadReport> | undefined;
  return {
    ops: () => ops,
    successes: () => successes,
    stop() {
      stopping = true;
      stopped ??= Promise.all(running).then(() => ({
        ops,
        failures,
        missingReads,
        staleReads,
        sessions: all,
      }));
      return stopped;
    },
  };
}

export interface Verdict {
  /** Sessions the history says exist but that read back as absent. */
  readonly lost: string[];
  /** Sessions that read back with a value the history rules out (an older one). */
  readonly stale: string[];
  /** Sessions whose destroy was acknowledged (and nothing since) but that read back. */
  readonly resurrected: string[];
}

/** Reads every session of the history through `store` and classifies what is wrong. */
export async function verify(
  store: SessionPgsql<Data>,
  sessions: readonly SessionHistory[],
): Promise<Verdict> {
  const verdict: Verdict = { lost: [], stale: [], resurrected: [] };
  for (let i = 0; i < sessions.length; i += 16) {
    await Promise.all(
      sessions.slice(i, i + 16).map(async (s) => {
        const got = (await store.read(s.id))?.data?.v ?? null;
        if (s.possible.has(got)) return;
        const line = `${s.id}: got ${got}, expected one of ${[...s.possible].join('|')}`;
        if (got === null) verdict.lost.push(line);
        else if (s.possible.size === 1 && s.possible.has(null)) verdict.resurrected.push(line);
        else verdict.stale.push(line);
      }),
    );
  }
  return verdict;
}

/**
 * Checks the tables themselves after the hand-back: every live session is stored exactly
 * once, on its home, with a value its history allows; destroyed ones are stored nowhere.
 */
export async function verifyTables(
  fleet: Fleet,
  table: string,
  sessions: readonly SessionHistory[],
  order: (id: string) => number[],
): Promise<string[]> {
  const rows = await rowsEverywhere(fleet, table);
  const byKey = new Map<string, StoredCopy[]>();
  for (const row of rows) byKey.set(row.sess_id, [...(byKey.get(row.sess_id) ?? []), row]);
  const problems: string[] = [];
  for (const s of sessions) {
    const copies = byKey.get(storedKey(s.id)) ?? [];
    const values = copies.map((c) =>
      c.sess_data === null ? null : (JSON.parse(c.sess_data) as Data).v,
    );
    if (copies.length === 0) {
      if (!s.possible.has(null)) problems.push(`${s.id}: stored nowhere`);
      continue;
    }
    const home = order(s.id)[0];
    const where = copies.map((c) => c.server);
    if (copies.length > 1 || where[0] !== home || !s.possible.has(values[0] ?? null)) {
      problems.push(
        `${s.id}: home ${home}, stored on ${where.join(',')} as ${values.join(',')}, expected ${[...s.possible].join('|')}`,
      );
    }
  }
  return problems;
}

export interface HealthEvents {
  readonly failover: { server: number; at: number }[];
  readonly recovery: { server: number; at: number }[];
}

/** Records the store's 'failover' and 'recovery' events with the time they came. */
export function recordHealth(store: SessionPgsql<Data>): HealthEvents {
  const events: HealthEvents = { failover: [], recovery: [] };
  store.on('failover', (e) => events.failover.push({ server: e.server, at: performance.now() }));
  store.on('recovery', (e) => events.recovery.push({ server: e.server, at: performance.now() }));
  return events;
}

export interface OutageReport extends LoadReport {
  readonly stopAt: number;
  readonly recoveredAt: number;
  readonly opsBefore: number;
  readonly opsDown: number;
  readonly opsAfter: number;
  readonly events: HealthEvents;
}

/**
 * Runs the load on `store`; after `opsPerPhase` operations stops server `victim` with
 * `pg_ctl stop -m immediate` (or hangs it), keeps going for as many operations, starts
 * (resumes) it again, waits
 * for the store's 'recovery' event, keeps going for as many operations again, and stops.
 * Phases are counted in operations, not seconds, so a slow machine only runs longer.
 */
export async function outageUnderLoad(
  store: SessionPgsql<Data>,
  fleet: Fleet,
  victim: number,
  options: {
    workers: number;
    sessionsPerWorker: number;
    opsPerPhase: number;
    /** `stop`: `pg_ctl stop -m immediate`, then start; `pause`: SIGSTOP, then SIGCONT. */
    how?: 'stop' | 'pause';
  },
): Promise<OutageReport> {
  const events = recordHealth(store);
  const load = await startLoad(store, options.workers, options.sessionsPerWorker);
  try {
    return await runOutage(load, events, fleet.servers[victim] as PostgresServer, options);
  } catch (error) {
    await load.stop(); // no load left running after a failed test
    throw error;
  }
}

async function runOutage(
  load: Load,
  events: HealthEvents,
  server: PostgresServer,
  options: { opsPerPhase: number; how?: 'stop' | 'pause' },
): Promise<OutageReport> {
  await waitUntil('load before the stop', () => load.ops() >= options.opsPerPhase);
  const opsAtStop = load.ops();
  const stopAt = performance.now();
  if (options.how === 'pause') server.pause();
  else await server.stop('immediate');
  await waitUntil(
    'load while the server is down',
    () => load.ops() - opsAtStop >= options.opsPerPhase && events.failover.length > 0,
  );
  const opsAtStart = load.ops();
  if (options.how === 'pause') server.resume();
  else await server.start();
  await waitUntil('the recovery event', () => events.recovery.length > 0);
  const recoveredAt = (events.recovery[0] as { at: number }).at;
  const opsAtRecovery = load.ops();
  await waitUntil(
    'load after the recovery',
    () => load.ops() - opsAtRecovery >= options.opsPerPhase,
  );
  const report = await load.stop();
  return {
    ...report,
    stopAt,
    recoveredAt,
    opsBefore: opsAtStop,
    opsDown: opsAtStart - opsAtStop,
    opsAfter: report.ops - opsAtStart,
    events,
  };
}

/** One line per kind of failure: "SPG_DB_UNREACHABLE write: cannot reach ... (12)". */
export function summarizeFailures(failures: readonly Failure[]): string[] {
  const counts = new Map<string, number>();
  for (const f of failures) {
    const line = `${f.code} ${f.op}: ${f.message.slice(0, 120)}`;
    counts.set(line, (counts.get(line) ?? 0) + 1);
  }
  return [...counts].map(([line, n]) => `${line} (${n})`);
}

/**
 * After an outage under load: nothing lost, stale or resurrected, as `store` reads it and
 * as a store opened once every copy is home reads it; and each session stored once, at home.
 */
export async function assertNothingLost(
  fleet: FleetSetup,
  table: string,
  store: SessionPgsql<Data>,
  report: LoadReport,
  order: (id: string) => number[],
): Promise<void> {
  const clean = { lost: [], stale: [], resurrected: [] };
  assert.deepEqual(await verify(store, report.sessions), clean);
  await waitForHandBack(fleet, table);
  assert.deepEqual(await verify(fleet.stores.open(fleet.options(table)), report.sessions), clean);
  assert.deepEqual(await verifyTables(fleet, table, report.sessions, order), []);
}
