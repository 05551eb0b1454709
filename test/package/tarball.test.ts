/**
 * The package as npm publishes it. A clean copy of the repository (the files git tracks and
 * the untracked ones it does not ignore: no left-over dist/ leaks in) is packed with
 * `npm pack`, whose prepack builds; the tarball is installed with production dependencies
 * only into an empty app, which then loads both entry points from an ES module and from
 * CommonJS against a real PostgreSQL, and type-checks as a TypeScript consumer.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import {
  copyFile,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runPhp } from '../helpers/php.js';
import { sharedDatabaseUrl } from '../helpers/postgres.js';
import {
  cjsConsumer,
  cjsScript,
  esmConsumer,
  esmScript,
  type ScriptResult,
} from './scratch-app.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const PGLITE = '@electric-sql/pglite';
/** Each step runs npm, a build or a compiler, on a 2-core machine other test files share. */
const STEP_TIMEOUT_MILLIS = 240_000;
const slow = { timeout: 2 * STEP_TIMEOUT_MILLIS };

/**
 * The environment of a user's shell: none of the `npm test` run's own variables
 * (npm_config_*, npm_lifecycle_*...), the test runner's, or tsx's loader.
 */
function userEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key.startsWith('npm_') || key === 'NODE_TEST_CONTEXT' || key === 'NODE_OPTIONS') continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

interface Ran {
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command; rejects with its exit code and whole output when it fails. */
function run(
  command: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv = userEnv(),
): Promise<Ran> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      { cwd, env, maxBuffer: 64 * 1024 * 1024, timeout: STEP_TIMEOUT_MILLIS },
      (error, stdout, stderr) => {
        if (!error) return resolve({ stdout, stderr });
        const what = `${command} ${args.join(' ')} (in ${cwd})`;
        reject(
          new Error(
            `${what} failed: ${error.message}\n--- stdout\n${stdout}\n--- stderr\n${stderr}`,
          ),
        );
      },
    );
  });
}

/** Bytes of the files under `dir` (their apparent size, as npm's unpackedSize counts). */
async function bytesUnder(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) total += (await stat(join(entry.parentPath, entry.name))).size;
  }
  return total;
}

const megabytes = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** The version of a package installed in the repository, to install the same one offline. */
async function repoVersion(name: string): Promise<string> {
  const manifest = join(root, 'node_modules', name, 'package.json');
  return (JSON.parse(await readFile(manifest, 'utf8')) as { version: string }).version;
}

/** A copy of what a clean checkout holds, with the repository's node_modules linked in. */
async function cleanCopy(into: string): Promise<void> {
  const { stdout } = await run('git', ['ls-files', '-z', '-co', '--exclude-standard'], root);
  const paths = stdout.split('\0').filter((path) => path !== '');
  assert.ok(paths.includes('package.json'), `git ls-files in ${root} listed no package.json`);
  for (const path of paths) {
    // listed but deleted in the work tree: a clean checkout of the next commit lacks it too
    if (!existsSync(join(root, path))) continue;
    await mkdir(dirname(join(into, path)), { recursive: true });
    await copyFile(join(root, path), join(into, path));
  }
  await symlink(join(root, 'node_modules'), join(into, 'node_modules'), 'dir');
}

describe('the package as npm packs and installs it', () => {
  let work: string;
  let app: string;
  let url: string;
  let packed: string[] = [];
  let installed: { bytes: number; packages: string };
  let pgliteBytes: number;
  const timings: string[] = [];

  async function timed<T>(step: string, action: () => Promise<T>): Promise<T> {
    const started = performance.now();
    const result = await action();
    timings.push(`${step} ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return result;
  }

  before(
    async () => {
      work = await mkdtemp(join(tmpdir(), 'session-pgsql-tarball-'));
      const repo = join(work, 'repo');
      app = join(work, 'app');
      await mkdir(app, { recursive: true });
      url = await sharedDatabaseUrl();
      await cleanCopy(repo);

      await timed('npm pack', () => run('npm', ['pack', '--pack-destination', work], repo));
      const tarballs = (await readdir(work)).filter((name) => name.endsWith('.tgz'));
      assert.equal(tarballs.length, 1, `npm pack made ${tarballs.join(', ') || 'no tarball'}`);
      const tarball = join(work, tarballs[0] as string);
      const { stdout: list } = await run('tar', ['-tzf', tarball], work);
      packed = list
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => line.replace(/^package\//, ''))
        .sort();

      await writeFile(
        join(app, 'package.json'),
        `${JSON.stringify({ name: 'scratch-app', private: true, type: 'module' }, null, 2)}\n`,
      );
      const npmInstall = ['install', '--no-audit', '--no-fund', '--prefer-offline'];
      const session = `express-session@${await repoVersion('express-session')}`;
      const { stdout } = await timed('npm install --omit=dev', () =>
        run('npm', [...npmInstall, '--omit=dev', tarball, session], app),
      );
      installed = {
        bytes: await bytesUnder(join(app, 'node_modules')),
        packages: /added \d+ packages?/.exec(stdout)?.[0] ?? stdout.trim(),
      };
      pgliteBytes = await bytesUnder(join(root, 'node_modules', PGLITE));
      // What a TypeScript consumer adds, after the production install was measured.
      // and a Fastify application's packages, to check the fastify store against their types
      const types = [
        '@types/node',
        '@types/express-session',
        'fastify',
        '@fastify/session',
        '@fastify/cookie',
        // and a Hono application's: the hono adapter needs hono at run time
        'hono',
        '@hono/node-server',
        // and a Koa application's, for the koa store
        'koa',
        '@types/koa',
        'koa-session',
        'prom-client',
      ];
      const versions = await Promise.all(types.map(async (t) => `${t}@${await repoVersion(t)}`));
      await timed('npm install -D @types', () =>
        run('npm', [...npmInstall, '--save-dev', ...versions], app),
      );
    },
    { timeout: 4 * STEP_TIMEOUT_MILLIS },
  );

  after(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('holds the build of every entry point, the PHP handler, LICENSE, README and CHANGELOG, and nothing else', (t) => {
    t.diagnostic(`tarball: ${packed.join(', ')}`);
    const required = [
      'CHANGELOG.md',
      'LICENSE',
      'README.md',
      'package.json',
      'php/composer.json',
      'php/autoload.php',
      'php/src/PgsqlSessionHandler.php',
      'php/src/Statements.php',
      'php/src/functions.php',
      ...[
        'index',
        'adapters/express',
        'adapters/fastify',
        'adapters/hono',
        'adapters/koa',
        'metrics/prometheus',
        'cli/main',
        'dashboard',
      ].flatMap((entry) => ['js', 'cjs', 'd.ts', 'd.cts'].map((ext) => `dist/${entry}.${ext}`)),
    ];
    assert.deepEqual(
      required.filter((file) => !packed.includes(file)),
      [],
      'missing from the tarball',
    );
    const unexpected = packed.filter(
      (file) =>
        !required.includes(file) &&
        !/^dist\/[^/]+$/.test(file) &&
        !/^php\/src\/[A-Za-z0-9]+\.php$/.test(file),
    );
    assert.deepEqual(unexpected, [], 'no src/, test/ or anything else outside dist/ and php/src/');
    // no sourcemaps: they would point at src/, which is not published
    assert.deepEqual(
      packed.filter((file) => file.endsWith('.map')),
      [],
    );
  });

  it('installs for production without PGlite', (t) => {
    assert.equal(existsSync(join(app, 'node_modules', 'session-pgsql', 'package.json')), true);
    assert.equal(
      existsSync(join(app, 'node_modules', PGLITE)),
      false,
      `${PGLITE} is an optional peer dependency: a production install must not carry it`,
    );
    t.diagnostic(
      `npm install session-pgsql express-session: ${installed.packages}, node_modules ` +
        `${megabytes(installed.bytes)} (${installed.bytes} bytes)`,
    );
    t.diagnostic(`${PGLITE} when added: ${megabytes(pgliteBytes)} (${pgliteBytes} bytes)`);
    t.diagnostic(`steps: ${timings.join(', ')}`);
  });

  it('runs the command line as `npx session-pgsql`, from the installed package', slow, async () => {
    const env = userEnv({ SESSION_PGSQL_DB: url });
    const cli = (...args: string[]) =>
      run('npx', ['--no-install', 'session-pgsql', ...args], app, env);
    const table = 'tarball_cli';
    await cli('init', '--table', table);
    const { stdout } = await cli('status', '--table', table, '--json');
    const status = JSON.parse(stdout) as { sessions: number; servers: { up: boolean }[] };
    assert.equal(status.sessions, 0);
    assert.deepEqual(
      status.servers.map((server) => server.up),
      [true],
    );
    // demo needs express, which this app does not have: a coded error, exit code 1
    await assert.rejects(cli('demo'), /SPG_PEER_UNAVAILABLE/);
  });

  /** Runs a script of the app and returns what it printed, its last line parsed. */
  async function runScript(name: string, text: string): Promise<ScriptResult> {
    await writeFile(join(app, name), text);
    const { stdout } = await run(
      process.execPath,
      [name],
      app,
      userEnv({ SESSION_PGSQL_URL: url }),
    );
    const last = stdout.trim().split('\n').at(-1) ?? '';
    return JSON.parse(last) as ScriptResult;
  }

  function assertRoundTrip(result: ScriptResult, format: 'esm' | 'cjs'): void {
    const ext = format === 'esm' ? 'js' : 'cjs';
    const dist = join(app, 'node_modules', 'session-pgsql', 'dist');
    assert.deepEqual(result.resolved, [
      join(dist, `index.${ext}`),
      join(dist, 'adapters', `express.${ext}`),
      join(dist, 'adapters', `fastify.${ext}`),
      join(dist, 'adapters', `koa.${ext}`),
      join(dist, 'metrics', `prometheus.${ext}`),
      join(dist, `dashboard.${ext}`),
    ]);
    assert.equal(result.written, true);
    assert.deepEqual(result.read, { format });
    assert.deepEqual(result.invalid, { code: 'SPG_INVALID_SESSION_ID', coded: true });
    assert.equal(result.isStore, true, 'PgsqlStore is an express-session Store');
    assert.equal(result.views, 1);
    assert.equal(result.fastifyViews, 2, 'the fastify store, without @fastify/session installed');
    assert.equal(result.fastifySharesCore, true);
    assert.equal(result.honoResolved, join(dist, 'adapters', `hono.${ext}`));
    assert.deepEqual(result.honoViews, [1, 2], 'the hono middleware: a session stored, read back');
    assert.equal(result.honoSharesErrors, true);
    assert.equal(result.koaViews, 3, 'the koa store, without Koa or koa-session installed');
    assert.equal(result.koaSharesCore, true);
    assert.equal(result.oneErrorClass, true, 'every entry point shares one SessionPgsqlError');
    assert.deepEqual(result.prometheus, {
      lines: [
        'session_pgsql_operations_total{operation="write",outcome="ok"} 1',
        'session_pgsql_operations_total{operation="read",outcome="ok"} 1',
        'session_pgsql_operations_total{operation="write",outcome="error"} 1',
        'session_pgsql_errors_total{code="SPG_INVALID_SESSION_ID"} 1',
      ],
      afterStop: 0,
    });
    assert.equal(result.dashboardPage, '200 text/html; charset=utf-8');
    assert.equal(result.dashboardServers, 1);
    assert.equal(result.nodeHandler, 'function');
    assert.equal(result.code, 'SPG_EMBEDDED_UNAVAILABLE');
    assert.ok(result.unavailable, 'a store without db and without PGlite must reject');
    const { message, ...unavailable } = result.unavailable;
    assert.deepEqual(unavailable, {
      coded: true,
      code: 'SPG_EMBEDDED_UNAVAILABLE',
      causeCode: format === 'esm' ? 'ERR_MODULE_NOT_FOUND' : 'MODULE_NOT_FOUND',
    });
    assert.match(
      message,
      /run "npm install -D @electric-sql\/pglite" for development, or pass "db"/,
    );
  }

  it(
    'import: a write and a read on PostgreSQL; no db and no PGlite is SPG_EMBEDDED_UNAVAILABLE',
    slow,
    async (t) => {
      const result = await runScript('check.mjs', esmScript);
      assertRoundTrip(result, 'esm');
      t.diagnostic(`${result.unavailable?.code} | ${result.unavailable?.message}`);
    },
  );

  it('require: the same through the CommonJS build', slow, async () => {
    assertRoundTrip(await runScript('check.cjs', cjsScript), 'cjs');
  });

  it(
    'PHP: the handler from node_modules/session-pgsql/php writes and reads a session on PostgreSQL',
    slow,
    async () => {
      const script = `<?php
      require __DIR__ . '/node_modules/session-pgsql/php/autoload.php';
      SessionPgsql\\PgsqlSessionHandler::register(['db' => getenv('SESSION_PGSQL_URL'), 'table' => 'tarball_php']);
      session_start();
      $_SESSION['n'] = ($_SESSION['n'] ?? 0) + 1;
      $id = session_id();
      session_write_close();
      session_id($id);
      session_start();
      echo json_encode(['n' => $_SESSION['n'], 'accesses' => session_pgsql_info()['accesses'],
        'file' => (new ReflectionClass(SessionPgsql\\PgsqlSessionHandler::class))->getFileName()]);`;
      await writeFile(join(app, 'check.php'), script);
      const { stdout } = await runPhp(
        { file: join(app, 'check.php') },
        { env: { SESSION_PGSQL_URL: url } },
      );
      assert.deepEqual(JSON.parse(stdout), {
        n: 1,
        accesses: 1,
        file: join(app, 'node_modules', 'session-pgsql', 'php', 'src', 'PgsqlSessionHandler.php'),
      });
    },
  );

  it(
    'type-checks a consumer in ES module (.ts) and CommonJS (.cts) TypeScript',
    slow,
    async (t) => {
      await writeFile(join(app, 'consumer.ts'), esmConsumer);
      await writeFile(join(app, 'consumer.cts'), cjsConsumer);
      const tsconfig = {
        compilerOptions: {
          module: 'node16',
          moduleResolution: 'node16',
          target: 'ES2022',
          strict: true,
          noEmit: true,
          types: ['node'],
          // the published declarations are checked too
          skipLibCheck: false,
        },
        files: ['consumer.ts', 'consumer.cts'],
      };
      await writeFile(join(app, 'tsconfig.json'), `${JSON.stringify(tsconfig, null, 2)}\n`);
      const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
      const started = performance.now();
      const { stdout } = await run(
        process.execPath,
        [tsc, '-p', 'tsconfig.json', '--listFiles'],
        app,
      );
      t.diagnostic(`tsc ${((performance.now() - started) / 1000).toFixed(1)} s`);
      const dist = join(app, 'node_modules', 'session-pgsql', 'dist');
      const declarations = [
        'index.d.ts',
        'index.d.cts',
        'adapters/express.d.ts',
        'adapters/express.d.cts',
        'adapters/fastify.d.ts',
        'adapters/fastify.d.cts',
        'adapters/hono.d.ts',
        'adapters/hono.d.cts',
        'adapters/koa.d.ts',
        'adapters/koa.d.cts',
        'metrics/prometheus.d.ts',
        'metrics/prometheus.d.cts',
        'dashboard.d.ts',
        'dashboard.d.cts',
      ];
      const listed = stdout.split('\n');
      for (const file of declarations) {
        assert.ok(listed.includes(join(dist, file)), `tsc did not read dist/${file}:\n${stdout}`);
      }
    },
  );
});
