/**
 * `npm test [-- <filter>... <node flag>...]`: runs test/**\/*.test.ts with node:test.
 * Filters select files whose path contains any of them; arguments starting with `-` go to node
 * (e.g. `--test-name-pattern=pause`). Unless SESSION_PGSQL_TEST_URL is set, one shared
 * PostgreSQL is started for sharedDatabaseUrl() and passed on as SESSION_PGSQL_SHARED_URL.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type PostgresServer, startPostgres } from './helpers/postgres.js';
import { prepareClusters } from './helpers/postgres-cluster.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const nodeFlags = args.filter((arg) => arg.startsWith('-'));
const filters = args.filter((arg) => !arg.startsWith('-'));

const files = readdirSync(join(root, 'test'), { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.test.ts') && !file.split(sep).includes('node_modules'))
  .map((file) => join('test', file))
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
  .sort();

if (files.length === 0) {
  const which = filters.length ? ` matching ${filters.map((f) => `"${f}"`).join(' or ')}` : '';
  console.error(`\n!!!!! NO TEST FILES FOUND (test/**/*.test.ts${which}) !!!!!\n`);
  process.exit(1);
}

const started = performance.now();
// One initdb for the run: every server of every test file starts on a copy of it.
const env = { ...process.env, ...(await prepareClusters()) };
Object.assign(process.env, env); // and the shared server below
let server: PostgresServer | undefined;
if (!env.SESSION_PGSQL_TEST_URL) {
  server = await startPostgres({ name: 'shared' });
  env.SESSION_PGSQL_SHARED_URL = server.url;
  const ms = Math.round(performance.now() - started);
  console.log(`shared PostgreSQL on port ${server.port} (started in ${ms} ms)`);
}

// Node's default, made explicit: one file at a time on 2 cores. Two at a time finished
// server-heavy files ~25% sooner here, but each file ran much slower (initdb and servers
// compete for the CPU), leaving less margin to timing-sensitive tests. Override with e.g.
// `npm test -- --test-concurrency=2` (the last flag wins).
const concurrency = `--test-concurrency=${Math.max(1, availableParallelism() - 1)}`;

let exitCode = 1;
try {
  exitCode = await new Promise<number>((resolve, reject) => {
    const child = spawn(
      process.execPath,
      // A stuck test fails after 5 minutes instead of hanging CI.
      [
        '--import',
        'tsx',
        '--test',
        '--test-reporter=spec',
        '--test-timeout=300000',
        concurrency,
        ...nodeFlags,
        ...files,
      ],
      { cwd: root, env, stdio: 'inherit' },
    );
    process.on('exit', () => child.kill()); // e.g. when we get SIGTERM
    child.once('error', reject);
    child.once('exit', (code) => resolve(code ?? 1));
  });
} finally {
  await server?.destroy();
}
process.exit(exitCode);
