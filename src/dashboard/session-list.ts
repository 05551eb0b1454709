import type { SessionPgsql } from '../store/store.js';

/** A live session as the dashboard lists it. */
export interface ListedSession {
  /** Its stored key (the dashboard shows a digest of it). */
  readonly key: string;
  /** The custom field (`setField`): the user it belongs to; `null` when unset. */
  readonly user: string | null;
  /** Last write, milliseconds since the epoch (database clock); `null` when unknown. */
  readonly modified: number | null;
}

/**
 * Up to `limit` live sessions, each with its user, the most recently modified first:
 * the stored keys from `ids()`, then one `inspect` per listed key.
 */
export async function listSessions(
  store: SessionPgsql<unknown>,
  limit: number,
): Promise<ListedSession[]> {
  const keys = (await store.ids()).slice(0, limit);
  const listed = await Promise.all(
    keys.map(async (key) => {
      const inspected = await store.inspect(key, { byKey: true });
      if (inspected === undefined || inspected.expired) return undefined;
      return { key, user: inspected.custom, modified: inspected.modified?.getTime() ?? null };
    }),
  );
  return listed
    .filter((s): s is ListedSession => s !== undefined)
    .sort((a, b) => (b.modified ?? 0) - (a.modified ?? 0));
}
