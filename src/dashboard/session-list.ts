import type { SessionPgsql } from '../store/store.js';

/** A live session as the dashboard lists it. */
export interface ListedSession {
  /** Its stored key (the dashboard shows a digest of it). */
  readonly key: string;
  /** The custom field (`setField`), the user it belongs to; `null` when unset. */
  readonly user: string | null;
}

/** Up to `limit` live sessions. */
export async function listSessions(
  store: SessionPgsql<unknown>,
  limit: number,
): Promise<ListedSession[]> {
  const keys = await store.ids();
  return keys.slice(0, limit).map((key) => ({ key, user: null }));
}
