/**
 * Shared pieces of the operator calls' tests: waiting for a store's cache to be on, and
 * for something that must happen (a hang guard, not a timing claim).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { SessionPgsql } from '../../src/index.js';

/** Longest wait for something that must happen. */
const GUARD_MILLIS = 10_000;

export async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + GUARD_MILLIS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Waits until every server's cache of a store is on (its listener proved notifications arrive). */
export function cacheOn<D>(store: SessionPgsql<D>): Promise<true> {
  return until('the cache to be on', async () =>
    (await store.status()).servers.every((s) => s.cache?.enabled) ? true : undefined,
  );
}

/** SQL reads a store has sent to each server so far. */
export async function sqlReads<D>(store: SessionPgsql<D>): Promise<number> {
  const { servers } = await store.status();
  return servers.reduce(
    (sum, s) => sum + (s.statements.read ?? 0) + (s.statements.readMany ?? 0),
    0,
  );
}
