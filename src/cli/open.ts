import { type OpenedDatabase, openDatabases } from '../database/open-database.js';
import {
  type ResolvedOptions,
  resolveOptions,
  type SessionPgsqlOptions,
} from '../options/options.js';
import { SessionPgsql } from '../store/store.js';

/**
 * A store for one command: no background collection, and no table created behind the
 * operator's back (a missing table is an error that says to run `init`). Closed after `work`.
 */
export async function withStore<T>(
  options: SessionPgsqlOptions,
  work: (store: SessionPgsql) => Promise<T>,
): Promise<T> {
  const store = new SessionPgsql({ gcInterval: 0, createTable: false, ...options });
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

/** The database of each server of `db`, closed after `work`. */
export async function withDatabases<T>(
  options: SessionPgsqlOptions,
  work: (databases: readonly OpenedDatabase[], resolved: ResolvedOptions) => Promise<T>,
): Promise<T> {
  const resolved = resolveOptions(options);
  const opened = openDatabases(resolved);
  try {
    return await work(opened, resolved);
  } finally {
    await Promise.all(opened.map(({ database }) => database.close().catch(() => {})));
  }
}
