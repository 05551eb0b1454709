/**
 * What notifications carry. Any role that may LISTEN on the (predictable) channel reads
 * them, so they never name a session by its id: with `hashIds` (the default) the stored key
 * is a digest already; with `hashIds: false` they carry the id's SHA-256, and the caches of
 * other processes still drop what changed.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { SessionPgsql } from '../../src/index.js';
import { type Data, newId, uniqueTable, useTestDatabase } from '../core/fixtures.js';

/** Longest wait for something that must happen (a hang guard, not a timing claim). */
const GUARD_MILLIS = 10_000;

const db = useTestDatabase();

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + GUARD_MILLIS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Waits until a store's cache is on (its listener proved that notifications arrive). */
function cacheOn(store: SessionPgsql<Data>): Promise<true> {
  return until('the cache to be on', async () =>
    (await store.status()).servers[0]?.cache?.enabled ? true : undefined,
  );
}

/** The channel the stores LISTEN on, as their listening connections said it. */
async function listenedChannel(): Promise<string> {
  return until('a LISTEN', async () => {
    const { rows } = await db.admin.query<{ query: string }>(
      "SELECT query FROM pg_stat_activity WHERE query LIKE 'LISTEN %' AND datname = current_database()",
    );
    return rows[0]?.query.match(/^LISTEN "([^"]+)"/)?.[1];
  });
}

describe('notifications with hashIds: false', () => {
  const payloads: string[] = [];
  let eavesdropper: pg.Client;
  let a: SessionPgsql<Data>;
  let b: SessionPgsql<Data>;

  before(async () => {
    const table = uniqueTable();
    const options = { db: db.url, table, gcInterval: 0, cache: true, hashIds: false };
    a = db.stores.open<Data>({ ...options, cacheHeartbeatMillis: 200 });
    b = db.stores.open<Data>({ ...options, cacheHeartbeatMillis: 200 });
    await Promise.all([a.length(), b.length()]); // starts the listeners
    await Promise.all([cacheOn(a), cacheOn(b)]);
    eavesdropper = new pg.Client({ connectionString: db.url });
    await eavesdropper.connect();
    eavesdropper.on('notification', (message) => payloads.push(message.payload ?? ''));
    await eavesdropper.query(`LISTEN "${await listenedChannel()}"`);
  });
  after(() => eavesdropper?.end());

  it("carry the id's SHA-256, never the id; other processes' caches still drop changes", async () => {
    const id = newId();
    await a.write(id, { step: 1 });
    assert.deepEqual((await b.read(id))?.data, { step: 1 }); // now in b's cache
    const read = await a.read(id);
    await a.write(id, { step: 2 }, { state: read?.state });
    await until('b to see the change', async () =>
      (await b.read(id))?.data?.step === 2 ? true : undefined,
    );
    await a.destroy(id);
    await until('b to see the destroy', async () =>
      (await b.read(id)) === undefined ? true : undefined,
    );
    const digest = createHash('sha256').update(id).digest('base64');
    const about = await until('the notifications', async () => {
      const mine = payloads.filter((payload) => payload.endsWith(` ${digest}`));
      return mine.length >= 3 ? mine : undefined; // two writes and a destroy
    });
    assert.ok(about.length >= 3);
    for (const payload of payloads) assert.equal(payload.includes(id), false, payload);
  });
});
