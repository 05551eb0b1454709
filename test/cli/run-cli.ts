/**
 * Runs the command line as a child process, as an operator would: `tsx src/cli/main.ts`
 * (the built binary is run through the installed tarball in test/package/tarball.test.ts).
 */
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
const main = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

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
export function runCli(
  args: readonly string[],
  options: { env?: Record<string, string> } = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      tsx,
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
export function runCliOnTerminal(args: readonly string[]): Promise<CliResult> {
  const quote = (arg: string) => `'${arg.replaceAll("'", "'\\''")}'`;
  const command = [tsx, main, ...args].map(quote).join(' ');
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
  // node itself, not tsx's wrapper: the wrapper relays SIGTERM to its child, and now and
  // then ended on the signal itself (exit 143) before the command's own clean exit (0)
  const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], {
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
