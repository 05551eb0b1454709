/**
 * Issue 3, garbage collection on every server, still once per interval across the fleet:
 * two processes with a store over the same three servers and gcInterval 1, checking every
 * 50 ms whether a collection is due. Each server's claims are logged by a trigger on its
 * '!gc' row, with the claim's time by that server's clock.
 */
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import {
  type Fleet,
  quoted,
  startFleet,
  storeTracker,
  uniqueTable,
  waitUntil,
} from './fixtures.js';

let fleet: Fleet;
const stores = storeTracker();
const children: ChildProcessWithoutNullStreams[] = [];

before(async () => {
  fleet = await startFleet(3, 'gc');
});
after(async () => {
  for (const child of children) if (child.exitCode === null) child.kill();
  await stores.closeAll();
  await fleet?.close();
});

const EXPIRED = [40, 25, 60];
const LIVE = 5;
const INTERVAL = 1;
/** gcCheckMillis of both processes: each checks many times per interval. */
const CHECK_MILLIS = 50;

interface GcLine {
  event: 'gc' | 'done';
  server?: number;
  deleted?: number;
  warnings?: string[];
}

function startWorker(dbs: readonly string[], table: string) {
  const path = new URL('./workers/gc-worker.ts', import.meta.url).pathname;
  const args = [JSON.stringify(dbs), table, String(INTERVAL), String(CHECK_MILLIS)];
  const child = spawn(process.execPath, ['--import', 'tsx', path, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines: GcLine[] = [];
  let ready = false;
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    stderr += text;
  });
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line === 'ready') ready = true;
    else lines.push(JSON.parse(line) as GcLine);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return {
    lines,
    exited,
    stderr: () => stderr,
    isReady: () => ready || child.exitCode !== null,
    send: (line: string) => child.stdin.write(`${line}\n`),
  };
}

describe('garbage collection over three servers and two processes', () => {
  it('collects every server, each at most once per gcInterval across both processes', async () => {
    const table = uniqueTable();
    const log = `${table}_claims`;
    // the table on every server, created by a store
    const setup = stores.open({ db: [...fleet.urls], table, gcInterval: 0 });
    await setup.length();
    for (const [server, admin] of fleet.admins.entries()) {
      await admin.query(
        `INSERT INTO ${quoted(table)} (sess_id, sess_data, sess_created, sess_modified, sess_expire, sess_counter)
         SELECT 'dead' || i, '{}', 0, 0, floor(extract(epoch from now()))::bigint - i, 1
         FROM generate_series(1, $1::int) i
         UNION ALL
         SELECT 'live' || i, '{}', 0, 0, floor(extract(epoch from now()))::bigint + 3600, 1
         FROM generate_series(1, $2::int) i`,
        [EXPIRED[server], LIVE],
      );
      await admin.query(`CREATE TABLE ${quoted(log)} (modified bigint, counter int)`);
      await admin.query(`CREATE FUNCTION ${quoted(`${log}_f`)}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN INSERT INTO ${quoted(log)} VALUES (NEW.sess_modified, NEW.sess_counter); RETURN NULL; END $$`);
      await admin.query(`CREATE TRIGGER log_claims AFTER INSERT OR UPDATE ON ${quoted(table)}
        FOR EACH ROW WHEN (NEW.sess_id = '!gc') EXECUTE FUNCTION ${quoted(`${log}_f`)}()`);
    }
    const claims = async (server: number) =>
      (
        await fleet.admins[server]?.query<{ modified: string; counter: number }>(
          `SELECT modified, counter FROM ${quoted(log)} ORDER BY modified`,
        )
      )?.rows ?? [];

    const workers = [startWorker(fleet.urls, table), startWorker(fleet.urls, table)];
    await waitUntil('both processes ready', () => workers.every((w) => w.isReady()));
    for (const w of workers) w.send('go');
    // until every server was claimed three times (so twice after a full interval)
    const keepAlive = setInterval(() => {}, 1000);
    try {
      await waitUntil(
        'three claims on every server',
        async () => (await Promise.all([0, 1, 2].map(claims))).every((c) => c.length >= 3),
        120_000,
      );
    } finally {
      clearInterval(keepAlive);
    }
    for (const w of workers) w.send('stop');
    const codes = await Promise.all(workers.map((w) => w.exited));
    assert.deepEqual(codes, [0, 0], workers.map((w) => w.stderr()).join('\n'));

    for (const w of workers) {
      const done = w.lines.find((l) => l.event === 'done');
      assert.deepEqual(done?.warnings, [], 'no collection failed');
    }
    const byServer = [0, 1, 2].map((server) =>
      workers.map((w) => w.lines.filter((l) => l.event === 'gc' && l.server === server)),
    );
    console.log(
      `collections per server [process 1, process 2]: ${byServer
        .map(
          (perProcess, server) =>
            `server ${server}: [${perProcess.map((c) => c.length).join(', ')}]`,
        )
        .join('; ')}`,
    );
    for (const server of [0, 1, 2]) {
      const logged = await claims(server);
      const collections = byServer[server]?.flat() ?? [];
      // every claim made exactly one collection, in one of the two processes
      assert.equal(collections.length, logged.length, `server ${server}`);
      // claims on a server are at least gcInterval apart by its clock, whoever made them
      for (let i = 1; i < logged.length; i++) {
        const gap = Number(logged[i]?.modified) - Number(logged[i - 1]?.modified);
        assert.ok(gap >= INTERVAL, `server ${server}: claims ${gap} s apart`);
      }
      assert.deepEqual(
        logged.map((c) => c.counter),
        logged.map((_, i) => i + 1),
      );
      // each server's expired rows were deleted there, its live rows kept
      assert.equal(
        collections.reduce((sum, c) => sum + (c.deleted ?? 0), 0),
        EXPIRED[server],
      );
      const { rows } = (await fleet.admins[server]?.query<{ sess_id: string }>(
        `SELECT sess_id FROM ${quoted(table)} WHERE sess_id <> '!gc' ORDER BY sess_id`,
      )) ?? { rows: [] };
      assert.deepEqual(
        rows.map((r) => r.sess_id),
        Array.from({ length: LIVE }, (_, i) => `live${i + 1}`).sort(),
      );
    }
  });
});
