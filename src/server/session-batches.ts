import { ErrorCodes, type SessionPgsqlError } from '../errors.js';
import type { Keyed, MetadataRow, SessionRow } from '../sql/rows.js';
import {
  type RowOf,
  TOUCH_PARAMS,
  type TouchParam,
  WRITE_PARAMS,
  type WriteParam,
} from '../sql/statements.js';
import { Batcher, ItemFailure } from './batcher.js';
import type { ParamValues, RunStatement } from './server.js';

const UPDATE_PARAMS = [...WRITE_PARAMS, 'expected'] as const;

/** A batch in which a row stayed locked by another transaction. */
const LOCKED = Symbol('locked');

/** Runs each item alone: the results in order, a failure failing its own caller only. */
async function eachAlone<Item, Result>(
  items: readonly Item[],
  run: (item: Item) => Promise<Result>,
): Promise<(Result | ItemFailure)[]> {
  const settled = await Promise.allSettled(items.map(run));
  return settled.map((s) => (s.status === 'fulfilled' ? s.value : new ItemFailure(s.reason)));
}

/** A touch's values by name (see `TOUCH_PARAMS`). */
export type TouchValues = Readonly<Record<TouchParam, unknown>> & { readonly key: string };

/** A compare-and-set update's values by name: a write's, and `expected`, md5 of what was read. */
export type UpdateValues = Readonly<Record<WriteParam | 'expected', unknown>> & {
  readonly key: string;
};

/** Deadlocks between batched statements (PostgreSQL aborts one of them) retried before failing. */
const DEADLOCK_RETRIES = 3;

/**
 * A server's reads, touches and updates, batched: those of one turn of the event loop share
 * one statement, so that under load one round trip serves many requests. A lone call uses
 * the single-session statement.
 */
export class SessionBatches {
  readonly #run: RunStatement;
  readonly #reads: Batcher<string, SessionRow | undefined>;
  readonly #touches: Batcher<TouchValues, boolean>;
  readonly #updates: Batcher<UpdateValues, MetadataRow | undefined>;

  constructor(run: RunStatement, maxSessions: number) {
    this.#run = run;
    this.#reads = new Batcher((keys) => this.#readMany(keys), maxSessions);
    const byKey = (item: { readonly key: string }) => item.key;
    this.#touches = new Batcher<TouchValues, boolean>(
      (items) => this.#touchMany(items),
      maxSessions,
      byKey,
    );
    this.#updates = new Batcher<UpdateValues, MetadataRow | undefined>(
      (items) => this.#updateMany(items),
      maxSessions,
      byKey,
    );
  }

  read(key: string): Promise<SessionRow | undefined> {
    return this.#reads.add(key);
  }

  touch(values: TouchValues): Promise<boolean> {
    return this.#touches.add(values);
  }

  update(values: UpdateValues): Promise<MetadataRow | undefined> {
    return this.#updates.add(values);
  }

  async #readMany(keys: string[]): Promise<(SessionRow | undefined)[]> {
    if (keys.length === 1) {
      const { rows } = await this.#run('read', { key: keys[0] }, 'read a session');
      return [rows[0]];
    }
    const { rows } = await this.#run('readMany', { keys: [...new Set(keys)] }, 'read sessions');
    const byKey = new Map(rows.map((row) => [row.sess_id, row]));
    return keys.map((key) => byKey.get(key));
  }

  async #touchOne(item: TouchValues): Promise<boolean> {
    const { rowCount } = await this.#run('touch', item, 'touch a session');
    return rowCount > 0;
  }

  async #updateOne(item: UpdateValues): Promise<MetadataRow | undefined> {
    const { rows } = await this.#run('update', item, 'write a session');
    return rows[0];
  }

  async #touchMany(items: TouchValues[]): Promise<(boolean | ItemFailure)[]> {
    if (items.length === 1) return [await this.#touchOne(items[0] as TouchValues)];
    const touched = await this.#runMany('touchMany', items, 'touch sessions');
    if (touched === LOCKED) return eachAlone(items, (item) => this.#touchOne(item));
    return items.map(({ key }) => touched.has(key));
  }

  async #updateMany(items: UpdateValues[]): Promise<(MetadataRow | undefined | ItemFailure)[]> {
    if (items.length === 1) return [await this.#updateOne(items[0] as UpdateValues)];
    const written = await this.#runMany('updateMany', items, 'write sessions');
    if (written === LOCKED) return eachAlone(items, (item) => this.#updateOne(item));
    return items.map(({ key }) => written.get(key));
  }

  /**
   * Runs a statement over several sessions (distinct keys), each parameter an array of the
   * items' values, in key order so that concurrent batches lock rows in one order.
   * PostgreSQL still aborts one of two batches in a deadlock (with other writers): that
   * batch is run again. When a row of the batch stays locked by another transaction, the
   * batch resolves `LOCKED`: its sessions are then written one by one, so that only the
   * locked one fails.
   */
  async #runMany<K extends 'touchMany' | 'updateMany'>(
    kind: K,
    items: readonly (TouchValues | UpdateValues)[],
    action: string,
  ): Promise<Map<string, RowOf<K>> | typeof LOCKED> {
    const sorted = [...items].sort((a, b) => (a.key < b.key ? -1 : 1));
    const names = kind === 'touchMany' ? TOUCH_PARAMS : UPDATE_PARAMS;
    const values = Object.fromEntries(
      names.map((name) => [name, sorted.map((item) => (item as Record<string, unknown>)[name])]),
    ) as ParamValues<K>;
    for (let attempt = 1; ; attempt++) {
      try {
        const { rows } = await this.#run(kind, values, action);
        return new Map((rows as Keyed<RowOf<K>>[]).map((row) => [row.sess_id, row]));
      } catch (error) {
        if ((error as SessionPgsqlError).code === ErrorCodes.SESSION_LOCKED) return LOCKED;
        const sqlState = ((error as Error).cause as { code?: unknown } | undefined)?.code;
        if (sqlState !== '40P01' || attempt > DEADLOCK_RETRIES) throw error;
      }
    }
  }
}
