/**
 * HTTP level: bench/http-server.ts in a child process, loaded by autocannon from this
 * process over `connections` keep-alive connections, each request carrying one of the
 * pre-created sessions' cookies; `readShare` of the requests only read their session.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { ownCpuMillis, treeCpuMillis } from './cpu.js';
import { sessionId, signedCookie } from './fixtures.js';
import type { ServedCounts, ToChild, ToParent } from './http-server.js';
import { random } from './stats.js';
import type { StoreTarget } from './stores.js';

export interface ServerSettings {
  readonly sessions: number;
  readonly lifetimeMillis: number;
  /** Folder for a V8 CPU profile of the server process, if wanted. */
  readonly cpuProfileDir?: string | undefined;
}

const serverScript = fileURLToPath(new URL('./http-server.ts', import.meta.url));

/** The HTTP server process of one store ("none": no session at all). */
export class ServerProcess {
  readonly port: number;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;

  private constructor(child: ChildProcess, port: number, exited: Promise<void>) {
    this.#child = child;
    this.port = port;
    this.#exited = exited;
  }

  static async start(
    variantId: string,
    target: StoreTarget,
    settings: ServerSettings,
  ): Promise<ServerProcess> {
    const execArgv = ['--import', 'tsx'];
    if (settings.cpuProfileDir) {
      // One folder per store: the main thread's profile is the largest file in it.
      const dir = join(settings.cpuProfileDir, variantId);
      mkdirSync(dir, { recursive: true });
      execArgv.push('--cpu-prof', `--cpu-prof-dir=${dir}`);
    }
    const child = fork(serverScript, [], {
      execArgv,
      env: {
        ...process.env,
        BENCH_VARIANT: variantId,
        BENCH_PG_URL: target.postgresUrl ?? '',
        BENCH_REDIS_URL: target.redisUrl ?? '',
        BENCH_SESSIONS: String(settings.sessions),
        BENCH_LIFETIME_MILLIS: String(settings.lifetimeMillis),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const kill = () => child.kill('SIGKILL');
    process.once('exit', kill);
    void exited.then(() => process.removeListener('exit', kill));
    const port = await new Promise<number>((resolve, reject) => {
      const onMessage = (message: ToParent) => {
        if (message.type === 'ready') resolve(message.port);
        if (message.type === 'failed') reject(new Error(`${variantId} server: ${message.message}`));
      };
      child.on('message', onMessage);
      void exited.then(() => reject(new Error(`${variantId} server exited before it was ready`)));
    });
    return new ServerProcess(child, port, exited);
  }

  /** Requests served and CPU time of the server process so far. */
  counts(): Promise<ServedCounts> {
    return new Promise((resolve, reject) => {
      const onMessage = (message: ToParent) => {
        if (message.type !== 'counts') return;
        this.#child.off('message', onMessage);
        resolve(message.counts);
      };
      this.#child.on('message', onMessage);
      if (!this.#child.send({ type: 'counts' } satisfies ToChild)) {
        reject(new Error('the server process is gone'));
      }
    });
  }

  /** Closes the store (and its connections) and waits for the process to exit. */
  async stop(): Promise<void> {
    this.#child.send({ type: 'stop' } satisfies ToChild);
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), 15_000);
    await this.#exited;
    clearTimeout(timer);
  }
}

export interface LoadSettings {
  readonly sessions: number;
  readonly connections: number;
  readonly readShare: number;
  readonly seed: number;
}

export interface LoadResult {
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly non2xx: number;
  readonly errors: number;
}

/** Loads the server for `seconds`, or for exactly `amount` requests. */
export async function load(
  port: number,
  settings: LoadSettings,
  length: { seconds: number } | { amount: number },
): Promise<LoadResult> {
  const cookies = Array.from({ length: settings.sessions }, (_, i) =>
    signedCookie(sessionId('ht', i)),
  );
  const choose = random(settings.seed);
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections: settings.connections,
    ...('seconds' in length ? { duration: length.seconds } : { amount: length.amount }),
    requests: [
      {
        setupRequest: (request) => {
          const cookie = cookies[Math.floor(choose() * cookies.length)] ?? '';
          const path = choose() < settings.readShare ? '/r' : '/w';
          return { ...request, path, headers: { ...request.headers, cookie } };
        },
      },
    ],
  });
  return {
    requests: result.requests.total,
    requestsPerSecond: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

export interface HttpRun extends LoadResult {
  readonly reads: number;
  readonly writes: number;
  readonly missing: number;
  /** CPU milliseconds per request: the server process, the database server, the load generator. */
  readonly cpuMillisPerRequest: {
    readonly node: number;
    readonly database: number;
    readonly loader: number;
  };
}

/** One timed run: start the server, warm up, measure, stop. */
export async function timedRun(
  variantId: string,
  target: StoreTarget,
  databasePid: number | undefined,
  server: ServerSettings,
  settings: LoadSettings,
  warmupSeconds: number,
  seconds: number,
): Promise<HttpRun> {
  const proc = await ServerProcess.start(variantId, target, server);
  try {
    await load(proc.port, { ...settings, seed: settings.seed + 1 }, { seconds: warmupSeconds });
    const before = await proc.counts();
    const dbBefore = treeCpuMillis(databasePid);
    const selfBefore = ownCpuMillis();
    const result = await load(proc.port, settings, { seconds });
    const selfAfter = ownCpuMillis();
    const dbAfter = treeCpuMillis(databasePid);
    const after = await proc.counts();
    const served = after.reads + after.writes - before.reads - before.writes;
    const per = (millis: number) => (served > 0 ? millis / served : 0);
    return {
      ...result,
      reads: after.reads - before.reads,
      writes: after.writes - before.writes,
      missing: after.missing - before.missing,
      cpuMillisPerRequest: {
        node: per(after.cpuMillis - before.cpuMillis),
        database: per(dbAfter - dbBefore),
        loader: per(selfAfter - selfBefore),
      },
    };
  } finally {
    await proc.stop();
  }
}
