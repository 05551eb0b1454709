/**
 * Runs the command line as a child process, as an operator would: `node main.js`, where
 * main.js is src/cli/main.ts bundled once per test process (by tsup, as `npm run build`
 * does; a third of the time of running the source through tsx, with one process, not two).
 * The published binary is run through the installed tarball in test/package/tarball.test.ts.
 */
import { execFile, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'tsup';
import { onExit } from '../helpers/processes.js';

const root = fileURLToPath(new URL('../..', import.meta.url));

let bundled: Promise<string> | undefined;

/** The command line's bundle, inside the checkout so that its packages resolve. */
function cliMain(): Promise<string> {
  bundled ??= (async () => {
    const outDir = join(root, 'node_modules', '.cache', 'session-pgsql-test', `cli-${process.pid}`);
    onExit(() => rmSync(outDir, { recursive: true, force: true }));
    await build({
      entry: { main: join(root, 'src/cli/main.ts') },
      outDir,
      format: ['esm'],
      target: 'node20',
      config: false,
      silent: true,
      dts: false,
      splitting: false,
    });
    return join(outDir, 'main.js');
  })();
  return bundled;
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** The environment without the test runner's variables, nor a SESSION_PGSQL_DB of the shell's. */
function cliEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (key === 'NODE_TEST_CONTEXT' || key === 'SESSION_PGSQL_DB') continue;
    env[key] = value;
  }
  return { ...env, ...extra };
}

/** `session-pgsql ...args`; resolves with its exit code and output whatever the code. */
export async function runCli(
  args: readonly string[],
  options: { env?: Record<string, string> } = {},
): Promise<CliResult> {
  const main = await cliMain();
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [main, ...args],
      { cwd: root, env: cliEnv(options.env ?? {}), maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The URL of `url` logging in as `user` with `password`. */
export function asRole(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  return u.toString();
}

/** Runs the command line on a terminal of its own (`script`), as an operator at a shell. */
export async function runCliOnTerminal(args: readonly string[]): Promise<CliResult> {
  const quote = (arg: string) => `'${arg.replaceAll("'", "'\\''")}'`;
  const command = [process.execPath, await cliMain(), ...args].map(quote).join(' ');
  return new Promise((resolve) => {
    execFile(
      'script',
      ['-qec', command, '/dev/null'],
      { cwd: root, env: { ...cliEnv({}), COLUMNS: '100' }, maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A command that keeps running (`demo`): its first line of stdout, and a way to stop it. */
export async function startCli(
  args: readonly string[],
): Promise<{ firstLine: string; stop(): Promise<CliResult> }> {
  const child = spawn(process.execPath, [await cliMain(), ...args], {
    cwd: root,
    env: cliEnv({}),
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<number>((resolve) =>
    child.once('exit', (code) => resolve(code ?? -1)),
  );
  const firstLine = await new Promise<string>((resolve, reject) => {
    const check = () => {
      if (stdout.includes('\n')) resolve(stdout.slice(0, stdout.indexOf('\n')));
    };
    child.stdout.on('data', check);
    void exited.then((code) => reject(new Error(`exited with ${code} before a line:\n${stderr}`)));
  });
  return {
    firstLine,
    async stop() {
      child.kill('SIGTERM');
      const code = await exited;
      return { code, stdout, stderr };
    },
  };
}
