/**
 * A Redis server for connect-redis, started by the benchmark on a free port with Redis's
 * default settings (RDB snapshots, no AOF), or `undefined` when `redis-server` is missing.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { createClient } from 'redis';
import { sleep } from './stats.js';

export interface BenchRedis {
  readonly url: string;
  readonly version: string;
  /** The server's process id, for its CPU time. */
  readonly pid: number | undefined;
  /** Commands run so far, by name (INFO commandstats). */
  commandCounts(): Promise<Map<string, number>>;
  resetCounts(): Promise<void>;
  stop(): Promise<void>;
}

function findRedisServer(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat('/usr/bin', '/usr/local/bin')) {
    const candidate = join(dir, 'redis-server');
    if (dir && existsSync(candidate)) return candidate;
  }
  return undefined;
}

function freePort(): Promise<number> {
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

export async function startRedis(dataRoot: string): Promise<BenchRedis | undefined> {
  const binary = findRedisServer();
  if (!binary) return undefined;
  const version = /v=(\S+)/.exec(execFileSync(binary, ['--version'], { encoding: 'utf8' }))?.[1];
  const port = await freePort();
  const dir = join(dataRoot, `redis-${port}`);
  mkdirSync(dir, { recursive: true });
  const child: ChildProcess = spawn(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--logfile', ''],
    { stdio: 'ignore' },
  );
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    child.once('exit', () => {
      exited = true;
      resolve();
    }),
  );
  const kill = () => {
    if (!exited) child.kill('SIGKILL');
  };
  process.once('exit', kill);
  const url = `redis://127.0.0.1:${port}`;
  const admin = createClient({ url });
  admin.on('error', () => {});
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.connect();
      break;
    } catch (error) {
      if (exited || attempt > 100) throw new Error(`redis-server did not start: ${String(error)}`);
      await sleep(50);
    }
  }
  return {
    url,
    version: version ?? 'unknown',
    pid: child.pid,
    async commandCounts() {
      const info = await admin.info('commandstats');
      const counts = new Map<string, number>();
      for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
        counts.set(match[1] ?? '', Number(match[2]));
      }
      return counts;
    },
    async resetCounts() {
      await admin.configResetStat();
    },
    async stop() {
      await admin.close().catch(() => {});
      child.kill('SIGTERM');
      await Promise.race([exit, sleep(5000)]);
      kill();
      process.removeListener('exit', kill);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
