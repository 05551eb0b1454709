/** express-session's callback Store API as promises, the way express-session itself calls it. */
import type session from 'express-session';
import type { SessionData } from 'express-session';
import type { BenchSession } from './fixtures.js';

export function get(store: session.Store, sid: string): Promise<BenchSession | undefined> {
  return new Promise((resolve, reject) => {
    store.get(sid, (error: unknown, data?: SessionData | null) =>
      error ? reject(error) : resolve((data ?? undefined) as BenchSession | undefined),
    );
  });
}

export function set(store: session.Store, sid: string, data: BenchSession): Promise<void> {
  return new Promise((resolve, reject) => {
    store.set(sid, data as unknown as SessionData, (error?: unknown) =>
      error ? reject(error) : resolve(),
    );
  });
}

export function touch(store: session.Store, sid: string, data: BenchSession): Promise<void> {
  const touchOf = store.touch?.bind(store);
  if (!touchOf) return Promise.resolve();
  return new Promise((resolve, reject) => {
    touchOf(sid, data as unknown as SessionData, (error?: unknown) =>
      error ? reject(error) : resolve(),
    );
  });
}

/** Runs `task` for every item with at most `limit` in flight. */
export async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      await task(items[index] as T, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
