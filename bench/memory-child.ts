/**
 * The memory measurement's process (forked by bench/memory.ts with --expose-gc): writes
 * BENCH_WRITES distinct sessions through the store named by BENCH_VARIANT, 32 in flight,
 * sampling its memory, and after every BENCH_CHECKPOINT writes the heap left after a full GC.
 */
import { sessionData, sessionId } from './fixtures.js';
import { set } from './store-calls.js';
import { findVariant } from './stores.js';

export interface MemorySample {
  readonly writes: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
}

export type MemoryMessage =
  | { type: 'progress'; writes: number; checkpoint: MemorySample }
  | {
      type: 'done';
      samples: MemorySample[];
      checkpoints: MemorySample[];
      writesPerSecond: number;
    }
  | { type: 'failed'; message: string };

const env = process.env;
const writes = Number(env.BENCH_WRITES);
const checkpointEvery = Number(env.BENCH_CHECKPOINT);
const sampleMillis = Number(env.BENCH_SAMPLE_MILLIS ?? 100);
const lifetimeMillis = Number(env.BENCH_LIFETIME_MILLIS ?? 86_400_000);
const concurrency = 32;

const collectGarbage = (globalThis as { gc?: () => void }).gc;

/** Resolves once the message is handed to the IPC channel (large ones take a while). */
function send(message: MemoryMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

function sample(done: number): MemorySample {
  const usage = process.memoryUsage();
  return { writes: done, rssBytes: usage.rss, heapUsedBytes: usage.heapUsed };
}

function checkpoint(done: number): MemorySample {
  collectGarbage?.();
  return sample(done);
}

async function main(): Promise<void> {
  if (!collectGarbage) throw new Error('run with --expose-gc');
  const opened = await findVariant(env.BENCH_VARIANT ?? '').open({
    postgresUrl: env.BENCH_PG_URL,
    redisUrl: env.BENCH_REDIS_URL,
  });
  const samples: MemorySample[] = [];
  const checkpoints: MemorySample[] = [checkpoint(0)];
  let next = 0;
  let done = 0;
  const timer = setInterval(() => samples.push(sample(done)), sampleMillis);
  const started = performance.now();
  const worker = async () => {
    while (next < writes) {
      const i = next++;
      await set(opened.store, sessionId('mem', i), sessionData(i, lifetimeMillis));
      done++;
      if (done % checkpointEvery === 0) {
        const point = checkpoint(done);
        checkpoints.push(point);
        void send({ type: 'progress', writes: done, checkpoint: point });
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  clearInterval(timer);
  if (checkpoints.at(-1)?.writes !== done) checkpoints.push(checkpoint(done));
  await opened.close();
  await send({ type: 'done', samples, checkpoints, writesPerSecond: done / seconds });
}

main().then(
  () => process.disconnect?.(),
  async (error: unknown) => {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    await send({ type: 'failed', message });
    process.exitCode = 1;
    process.disconnect?.();
  },
);
