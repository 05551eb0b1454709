/**
 * Memory: a fresh process writes `writes` distinct sessions through one store; its peak
 * and steady memory, and whether the heap left after a full GC stays flat once the
 * first checkpoint (100,000 writes by default) is passed.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { MemoryMessage, MemorySample } from './memory-child.js';
import { percentile } from './stats.js';
import type { StoreTarget } from './stores.js';

export interface MemorySettings {
  readonly writes: number;
  readonly checkpointEvery: number;
  readonly sampleMillis: number;
  readonly lifetimeMillis: number;
}

export interface MemoryResult {
  readonly writes: number;
  readonly writesPerSecond: number;
  readonly peakRssMB: number;
  readonly peakHeapMB: number;
  /** Median RSS after the first checkpoint. */
  readonly steadyRssMB: number;
  /** Heap left after a full GC at the first checkpoint and at the end. */
  readonly retainedHeapAtFirstCheckpointMB: number;
  readonly retainedHeapAtEndMB: number;
  readonly rssAtFirstCheckpointMB: number;
  readonly rssAtEndMB: number;
  /** Retained heap growth from the first checkpoint to the end. */
  readonly heapGrowthMB: number;
  /** No more than 4 MB of retained heap growth after the first checkpoint. */
  readonly flat: boolean;
  readonly checkpoints: readonly { writes: number; rssMB: number; retainedHeapMB: number }[];
}

const childScript = fileURLToPath(new URL('./memory-child.ts', import.meta.url));
const mb = (bytes: number) => bytes / 1_048_576;

export async function measureMemory(
  variantId: string,
  target: StoreTarget,
  settings: MemorySettings,
  onProgress: (writes: number, sample: MemorySample) => void,
): Promise<MemoryResult> {
  const child = fork(childScript, [], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    env: {
      ...process.env,
      BENCH_VARIANT: variantId,
      BENCH_PG_URL: target.postgresUrl ?? '',
      BENCH_REDIS_URL: target.redisUrl ?? '',
      BENCH_WRITES: String(settings.writes),
      BENCH_CHECKPOINT: String(settings.checkpointEvery),
      BENCH_SAMPLE_MILLIS: String(settings.sampleMillis),
      BENCH_LIFETIME_MILLIS: String(settings.lifetimeMillis),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  try {
    const done = await new Promise<Extract<MemoryMessage, { type: 'done' }>>((resolve, reject) => {
      child.on('message', (message: MemoryMessage) => {
        if (message.type === 'progress') onProgress(message.writes, message.checkpoint);
        if (message.type === 'done') resolve(message);
        if (message.type === 'failed') reject(new Error(`memory process: ${message.message}`));
      });
      child.once('exit', (code) => reject(new Error(`memory process exited (code ${code})`)));
    });
    return summarize(done, settings);
  } finally {
    process.removeListener('exit', kill);
  }
}

function summarize(
  done: Extract<MemoryMessage, { type: 'done' }>,
  settings: MemorySettings,
): MemoryResult {
  const { samples, checkpoints } = done;
  const first = checkpoints.find((c) => c.writes >= settings.checkpointEvery) ?? checkpoints[0];
  const last = checkpoints.at(-1);
  if (!first || !last) throw new Error('no memory checkpoints');
  const after = samples.filter((s) => s.writes >= first.writes).map((s) => s.rssBytes);
  const growth = mb(last.heapUsedBytes - first.heapUsedBytes);
  return {
    writes: last.writes,
    writesPerSecond: done.writesPerSecond,
    peakRssMB: mb(Math.max(...samples.map((s) => s.rssBytes), last.rssBytes)),
    peakHeapMB: mb(Math.max(...samples.map((s) => s.heapUsedBytes), last.heapUsedBytes)),
    steadyRssMB: mb(
      percentile(
        after.sort((a, b) => a - b),
        0.5,
      ),
    ),
    retainedHeapAtFirstCheckpointMB: mb(first.heapUsedBytes),
    retainedHeapAtEndMB: mb(last.heapUsedBytes),
    rssAtFirstCheckpointMB: mb(first.rssBytes),
    rssAtEndMB: mb(last.rssBytes),
    heapGrowthMB: growth,
    flat: growth <= 4,
    checkpoints: checkpoints.map((c) => ({
      writes: c.writes,
      rssMB: mb(c.rssBytes),
      retainedHeapMB: mb(c.heapUsedBytes),
    })),
  };
}
