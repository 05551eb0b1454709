/**
 * Garbage collection shared by PHP and Node processes on one table: PHP's gc() callback
 * claims the collection with the Node store's `'!gc'` marker row, so that between all of
 * them only one collects per interval; session_gc() collects at once, as the Node store's
 * gc() does for cron.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { GarbageCollector } from '../../src/gc/garbage-collector.js';
import { resolveOptions } from '../../src/options/options.js';
import { createServers } from '../../src/server/create-servers.js';
import type { Server } from '../../src/server/server.js';
import { quoted, uniqueTable, useTestDatabase } from '../core/fixtures.js';
import { phpOk } from '../helpers/php-session.js';

const db = useTestDatabase();
const opened: Server[][] = [];
after(async () => {
  for (const servers of opened) for (const server of servers) await server.close();
});

/** A PHP-made table with `expired` dead rows and 2 live ones. */
async function filledTable(expired: number): Promise<string> {
  const table = uniqueTable('gc');
  await phpOk({
    options: { db: db.url, table, gcInterval: 0 },
    steps: [['start'], ['set', 'a', 1]],
  });
  await addExpired(table, expired, 'dead');
  return table;
}

async function addExpired(table: string, n: number, prefix: string): Promise<void> {
  await db.admin.query(
    `INSERT INTO ${quoted(table)} (sess_id, sess_data, sess_created, sess_modified, sess_expire, sess_counter)
     SELECT $2 || i, 'a|i:1;', 0, 0, floor(extract(epoch from now()))::bigint - i, 1
     FROM generate_series(1, $1::int) i`,
    [n, prefix],
  );
}

async function count(table: string): Promise<{ expired: number; live: number }> {
  const { rows } = await db.admin.query(
    `SELECT count(*) FILTER (WHERE sess_expire < extract(epoch from now()))::int AS expired,
       count(*) FILTER (WHERE sess_expire >= extract(epoch from now()))::int AS live
     FROM ${quoted(table)} WHERE sess_id <> '!gc'`,
  );
  return rows[0];
}

async function marker(
  table: string,
): Promise<{ sess_counter: number; sess_modified: number } | undefined> {
  const { rows } = await db.admin.query(
    `SELECT sess_counter, sess_modified::float8 AS sess_modified FROM ${quoted(table)} WHERE sess_id = '!gc'`,
  );
  return rows[0];
}

/** The collection as a Node process checks it on its timer: the same claim, then collection. */
async function nodeCollectIfDue(
  table: string,
  intervalSeconds: number,
): Promise<number | undefined> {
  const servers = createServers(
    resolveOptions({ db: db.url, table, gcInterval: intervalSeconds }),
    () => {},
  );
  opened.push(servers);
  let deleted: number | undefined;
  const collector = new GarbageCollector(servers, {
    intervalSeconds,
    checkMillis: 1000,
    batchSize: 1000,
    onCollected: (result) => {
      deleted = result.deleted;
    },
    onFailed: (error) => {
      throw error;
    },
  });
  await collector.collectIfDue();
  return deleted;
}

const php = (table: string, gcInterval: number, steps: [string, ...unknown[]][] = [['gc']]) =>
  phpOk({ options: { db: db.url, table, gcInterval }, steps });

describe('garbage collection shared by PHP and Node', () => {
  it('PHP claims the interval with the marker row; Node and PHP then wait for the next one', async () => {
    const table = await filledTable(5);
    const first = await php(table, 3600);
    assert.equal(first.results[0], 5, 'the first claim collects');
    assert.deepEqual(await count(table), { expired: 0, live: 1 });
    assert.equal((await marker(table))?.sess_counter, 1);

    await addExpired(table, 3, 'later');
    assert.equal((await php(table, 3600)).results[0], 0, 'PHP: claimed already this interval');
    assert.equal(
      await nodeCollectIfDue(table, 3600),
      undefined,
      'Node: claimed already this interval',
    );
    assert.deepEqual(await count(table), { expired: 3, live: 1 });
    assert.equal((await marker(table))?.sess_counter, 1);
  });

  it('Node claims the interval; PHP then waits for the next one, and claims that one', async () => {
    const table = await filledTable(4);
    assert.equal(await nodeCollectIfDue(table, 3600), 4);
    await addExpired(table, 2, 'later');
    assert.equal((await php(table, 3600)).results[0], 0);
    assert.deepEqual(await count(table), { expired: 2, live: 1 });
    // an interval later (the marker moved back by the interval, as if an hour had passed)
    await db.admin.query(
      `UPDATE ${quoted(table)} SET sess_modified = sess_modified - 3600 WHERE sess_id = '!gc'`,
    );
    assert.equal((await php(table, 3600)).results[0], 2);
    assert.equal((await marker(table))?.sess_counter, 2, 'claimed twice in all: once by each');
    assert.equal(await nodeCollectIfDue(table, 3600), undefined);
  });

  it("runs from PHP's own trigger (session.gc_probability on session_start)", async () => {
    const table = await filledTable(3);
    await phpOk({
      options: { db: db.url, table, gcInterval: 3600 },
      ini: { 'session.gc_probability': 1, 'session.gc_divisor': 1 },
      steps: [['start']],
    });
    assert.deepEqual(await count(table), { expired: 0, live: 1 });
    assert.equal((await marker(table))?.sess_counter, 1);
  });

  it('session_gc() collects now, claimed or not; a negative interval collects every time; 0 never from gc()', async () => {
    const table = await filledTable(2);
    await php(table, 3600); // claims
    await addExpired(table, 2, 'more');
    const collected = await php(table, 3600, [['start'], ['sessionGc']]);
    assert.equal(collected.results[1], 2);
    await addExpired(table, 1, 'again');
    assert.equal((await php(table, -1)).results[0], 1);
    await addExpired(table, 1, 'still');
    assert.equal((await php(table, 0)).results[0], 0);
    assert.deepEqual(await count(table), { expired: 1, live: 1 });
    assert.equal((await marker(table))?.sess_counter, 1, 'only the first claimed');
  });
});
