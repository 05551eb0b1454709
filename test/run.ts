/**
 * `npm test [-- <filter>... <flag>...]`: runs test/**\/*.test.ts with node:test, in child
 * processes, several at a time. Filters select files whose path contains any of
 * them. `--test-concurrency=N` sets how many processes run at once (1: one after the other);
 * other arguments starting with `-` go to node (e.g. `--test-name-pattern=pause`).
 *
 * Unless SESSION_PGSQL_TEST_URL is set, one shared PostgreSQL is started for
 * sharedDatabaseUrl() and passed on as SESSION_PGSQL_SHARED_URL. Every server of the run
 * (that one and those the test files start) is a copy of one initdb
 * (test/helpers/postgres-cluster.ts).
 *
 * Files in `alone` run first, each with no other; then the rest, the slowest first, each
 * in a process of its own, the others a few to a process (FILES_PER_PROCESS). Each
 * process's report (node's spec reporter) is printed when it ends; at the end, the totals of
 * all files in the form node prints its own (`ℹ tests N`, `ℹ pass N`, `ℹ fail N`...).
 */
import { readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type PostgresServer, startPostgres } from './helpers/postgres.js';
import { prepareClusters } from './helpers/postgres-cluster.js';
import {
  emptySummary,
  type RunOptions,
  type RunResult,
  runFiles,
  SUMMARY_KEYS,
} from './runner/run-files.js';

/**
 * Files whose checks depend on timing that other files' CPU use disturbs: each runs while
 * no other file does. hung-server: while one server hangs, statements on the others must
 * answer within its 500 ms query timeout, or a healthy server is marked down.
 */
const alone = [
  'test/several-servers/hung-server.test.ts',
  // short timeouts (hundreds of ms) that a loaded machine could stretch past their margins
  'test/core/row-locks.test.ts',
  'test/faults/connections.test.ts',
  'test/faults/slow-statements.test.ts',
];

/**
 * The slowest files (5 s of CPU or more alone on 2 cores), each in a process of its own,
 * started first in this order, so that the run does not end with one of them still going
 * on its own. The longest chain of work, the package's build and type checks, first; next
 * to it the embedded database's (one process each): the files with three servers under load
 * would take most of the CPU from them.
 */
const slowest = [
  'test/package/tarball.test.ts',
  'test/core/batching.test.ts',
  'test/core/embedded.test.ts',
  'test/operations/embedded-guard.test.ts',
  'test/several-servers/primary-standby.test.ts',
  'test/several-servers/failover-mode.test.ts',
  'test/several-servers/placement.test.ts',
  'test/pgbouncer/pgbouncer.test.ts',
  'test/several-servers/failover.test.ts',
  'test/php/several-servers.test.ts',
  'test/several-servers/session-pgsql-placement.test.ts',
  'test/several-servers/gc-several.test.ts',
  'test/dashboard/browser.test.ts',
  'test/frameworks/database-failure.test.ts',
  'test/cache/cache.test.ts',
  'test/properties/properties.test.ts',
  'test/cli/operator.test.ts',
  'test/cli/usage.test.ts',
  'test/cli/init.test.ts',
  'test/php/handler.test.ts',
  'test/cli/status.test.ts',
  'test/helpers/postgres.test.ts',
];

/**
 * The slow files keep the CPU busy: at most one per core runs at once (on 2 cores, a third
 * made each of them slower, to no gain). Once all have started, short files take two more
 * places: they mostly wait (for expiry, timeouts, child processes).
 */
const SLOW_AT_ONCE = availableParallelism();
const DEFAULT_CONCURRENCY = SLOW_AT_ONCE + 2;

/**
 * The other files share processes, up to this many from one folder in each, one after the
 * other: a process of its own (node, tsx, the sources' modules) costs about a second of
 * CPU, which on 2 cores was a sixth of the run.
 */
const FILES_PER_PROCESS = 4;

/** A file still running after this is stopped and fails (a stuck test must not hang CI). */
const FILE_TIMEOUT_MILLIS = 10 * 60_000;

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const concurrencyFlag = args.findLast((arg) => arg.startsWith('--test-concurrency='));
const concurrency = concurrencyFlag
  ? Math.max(1, Number(concurrencyFlag.split('=')[1]) || 1)
  : DEFAULT_CONCURRENCY;
const nodeFlags = args.filter(
  (arg) => arg.startsWith('-') && !arg.startsWith('--test-concurrency='),
);
const filters = args.filter((arg) => !arg.startsWith('-'));

const files = readdirSync(join(root, 'test'), { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.test.ts') && !file.split(sep).includes('node_modules'))
  .map((file) => ['test', ...file.split(sep)].join('/'))
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
  .sort();

if (files.length === 0) {
  const which = filters.length ? ` matching ${filters.map((f) => `"${f}"`).join(' or ')}` : '';
  console.error(`\n!!!!! NO TEST FILES FOUND (test/**/*.test.ts${which}) !!!!!\n`);
  process.exit(1);
}

/** Files in runs of one process: up to FILES_PER_PROCESS files of one folder each. */
function groupByFolder(list: readonly string[]): string[][] {
  const byFolder = new Map<string, string[]>();
  for (const file of list) {
    const folder = file.slice(0, file.lastIndexOf('/'));
    byFolder.set(folder, [...(byFolder.get(folder) ?? []), file]);
  }
  const groups: string[][] = [];
  for (const folderFiles of byFolder.values()) {
    for (let i = 0; i < folderFiles.length; i += FILES_PER_PROCESS)
      groups.push(folderFiles.slice(i, i + FILES_PER_PROCESS));
  }
  return groups;
}

/**
 * Runs the files: first those in `alone`, one by one; then the others in `concurrency`
 * lanes, each starting its next process when one ends: `SLOW_AT_ONCE` lanes take the slow
 * files first, in order; the other lanes join in once every slow file has started.
 */
async function runAll(options: RunOptions): Promise<RunResult[]> {
  const results: RunResult[] = [];
  for (const file of files.filter((f) => alone.includes(f))) {
    results.push(await runFiles([file], options));
  }
  const queue = [
    ...slowest.filter((f) => files.includes(f) && !alone.includes(f)).map((f) => [f]),
    ...groupByFolder(files.filter((f) => !alone.includes(f) && !slowest.includes(f))),
  ];
  const isSlow = (run: string[]) => run.length === 1 && slowest.includes(run[0] as string);
  let slowStarted = () => {};
  const lastSlowStarted = new Promise<void>((resolve) => {
    slowStarted = resolve;
  });
  const next = () => {
    const run = queue.shift();
    if (!queue.some(isSlow)) slowStarted();
    return run;
  };
  if (!queue.some(isSlow)) slowStarted();
  const lane = async (slowLane: boolean) => {
    if (!slowLane) await lastSlowStarted;
    for (let run = next(); run; run = next()) results.push(await runFiles(run, options));
  };
  const slowLanes = Math.min(concurrency, SLOW_AT_ONCE);
  await Promise.all(Array.from({ length: concurrency }, (_, i) => lane(i < slowLanes)));
  return results;
}

const started = performance.now();
const env: NodeJS.ProcessEnv = { ...process.env, ...(await prepareClusters()) };
const options: RunOptions = {
  cwd: root,
  env,
  nodeFlags,
  ownReporters: nodeFlags.some((flag) => flag.startsWith('--test-reporter')),
  timeoutMillis: FILE_TIMEOUT_MILLIS,
};
let server: PostgresServer | undefined;
let results: RunResult[];
try {
  if (!env.SESSION_PGSQL_TEST_URL) {
    server = await startPostgres({ name: 'shared' });
    env.SESSION_PGSQL_SHARED_URL = server.url;
    const ms = Math.round(performance.now() - started);
    console.log(`shared PostgreSQL on port ${server.port} (started in ${ms} ms)`);
  }
  const how = concurrency === 1 ? 'one at a time' : `up to ${concurrency} at a time`;
  console.log(`${files.length} test files, ${how}`);
  results = await runAll(options);
} finally {
  await server?.destroy();
}

const failed = results.flatMap((result) => result.failed);
if (failed.length > 0) {
  console.log(`\n✖ failing test files:\n${failed.map((file) => `  ${file}`).join('\n')}`);
}
if (!options.ownReporters) {
  // node's closing totals, for all files: CI reads these lines
  const totals = emptySummary();
  for (const { summary } of results) for (const key of SUMMARY_KEYS) totals[key] += summary[key];
  console.log('');
  for (const key of SUMMARY_KEYS) console.log(`ℹ ${key} ${totals[key]}`);
  console.log(`ℹ duration_ms ${performance.now() - started}`);
}
process.exit(failed.length > 0 ? 1 : 0);
