/**
 * Real PHP 8 for the tests: the CLI running a script, and PHP's built-in web server running
 * an app. A machine without PHP 8.2 and its pgsql extension fails these tests saying what
 * to install (`.ci/run` installs them); they are never skipped.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, onExit, signal } from './processes.js';

const INSTALL_HINT =
  'the PHP tests need PHP 8.2 with its PostgreSQL extension: apt-get install php8.2-cli php8.2-pgsql';

let checked: Promise<string> | undefined;

/** The PHP binary, once checked to be PHP 8 with the pgsql extension; throws what to install otherwise. */
export function phpBinary(): Promise<string> {
  checked ??= findPhp();
  return checked;
}

async function findPhp(): Promise<string> {
  for (const binary of ['php8.2', 'php']) {
    const result = await run(binary, [
      '-r',
      'echo PHP_MAJOR_VERSION, " ", extension_loaded("pgsql") ? 1 : 0;',
    ]);
    if (!result) continue;
    const [major, pgsql] = result.stdout.split(' ');
    if (Number(major) >= 8 && pgsql === '1') return binary;
  }
  throw new Error(INSTALL_HINT);
}

function run(
  binary: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; input?: string } = {},
): Promise<{ stdout: string; stderr: string; code: number } | undefined> {
  return new Promise((resolve) => {
    const child = execFile(
      binary,
      args,
      { env: options.env ?? process.env, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error && (error as NodeJS.ErrnoException).code === 'ENOENT') return resolve(undefined);
        const code = error ? Number((error as { code?: unknown }).code ?? 1) : 0;
        resolve({ stdout, stderr, code: Number.isInteger(code) ? code : 1 });
      },
    );
    child.stdin?.end(options.input ?? '');
  });
}

export interface PhpRun {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

/**
 * Runs a PHP script file (or `-r` code with `code`) with the CLI and resolves what it
 * printed; rejects, with its output, when it exits with an error. `env` is added to this
 * process's environment.
 */
export async function runPhp(
  script: { file: string; args?: readonly string[] } | { code: string; args?: readonly string[] },
  options: { env?: Record<string, string>; input?: string; allowFailure?: boolean } = {},
): Promise<PhpRun> {
  const binary = await phpBinary();
  const args =
    'file' in script
      ? [script.file, ...(script.args ?? [])]
      : ['-r', script.code, '--', ...(script.args ?? [])];
  const result = await run(binary, ['-d', 'display_errors=stderr', ...args], {
    env: { ...process.env, ...options.env },
    ...(options.input === undefined ? {} : { input: options.input }),
  });
  if (!result) throw new Error(INSTALL_HINT);
  if (result.code !== 0 && !options.allowFailure) {
    throw new Error(
      `php exited with ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`,
    );
  }
  return result;
}

export interface PhpServer {
  /** `http://127.0.0.1:port` */
  readonly url: string;
  /** What the server printed so far (its access log and errors go to stderr). */
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts PHP's built-in web server on 127.0.0.1 with `router` as the router script, and
 * resolves once it accepts connections. `ini` settings are passed with `-d`.
 */
export async function startPhpServer(
  router: string,
  options: { env?: Record<string, string>; ini?: Record<string, string> } = {},
): Promise<PhpServer> {
  const binary = await phpBinary();
  const port = await freePort();
  const ini = Object.entries({ display_errors: 'stderr', ...options.ini }).flatMap(
    ([key, value]) => ['-d', `${key}=${value}`],
  );
  const child: ChildProcess = spawn(binary, [...ini, '-S', `127.0.0.1:${port}`, router], {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => (output += text));
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (output += text));
  const exited = once(child, 'exit');
  const unregister = onExit(() => child.pid && signal(child.pid, 'SIGKILL'));
  const stop = async () => {
    unregister();
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  };
  for (let attempt = 0; ; attempt++) {
    if (child.exitCode !== null) {
      unregister();
      throw new Error(`php -S exited with ${child.exitCode}: ${output}`);
    }
    if (await accepts(port)) break;
    if (attempt > 200) {
      await stop();
      throw new Error(`php -S did not accept connections on port ${port}: ${output}`);
    }
    await sleep(25);
  }
  return { url: `http://127.0.0.1:${port}`, output: () => output, stop };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
