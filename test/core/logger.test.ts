/**
 * The `logger` option with real pino: failover (warn), recovery (info), collections
 * (debug) and failed background work (error) are logged; session ids and data never are.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Writable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import { type PostgresServer, startPostgres } from '../helpers/postgres.js';
import { newId, storedKey, uniqueTable, useTestDatabase } from './fixtures.js';

const db = useTestDatabase();

/** A pino logger at debug level writing to memory, and its lines parsed. */
function capturedPino(): {
  logger: pino.Logger;
  text(): string;
  lines(): Record<string, unknown>[];
} {
  let text = '';
  const stream = new Writable({
    write(chunk, _encoding, done) {
      text += String(chunk);
      done();
    },
  });
  const logger = pino({ level: 'debug' }, stream);
  return {
    logger,
    text: () => text,
    lines: () =>
      text
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/** Waits (a hang guard, not a timing claim) until `done` holds. */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let tries = 0; !done(); tries += 1) {
    assert.ok(tries < 1000, `never: ${what}`);
    await sleep(10);
  }
}

describe('logger option', () => {
  let second: PostgresServer | undefined;
  after(async () => {
    await db.stores.closeAll();
    await second?.destroy();
  });

  it('logs failover, recovery, collections and failed background work; never an id or data', async () => {
    const log = capturedPino();
    second = await startPostgres({ name: 'logger' });
    const secondUrl = await second.createDatabase('sessions');
    const password = decodeURIComponent(new URL(secondUrl).password);
    const ids: string[] = [];
    const secrets: string[] = [];
    const session = () => {
      const id = newId();
      const secret = `secret-${newId()}`;
      ids.push(id);
      secrets.push(secret);
      return { id, data: { user: secret } };
    };

    // Two servers: traffic, a collection, the second stopped and started again.
    const store = db.stores.open({
      db: [db.url, secondUrl],
      table: uniqueTable(),
      gcInterval: 0,
      healthCheckMillis: 100,
      logger: log.logger,
    });
    for (let i = 0; i < 6; i += 1) {
      const { id, data } = session();
      await store.write(id, data);
      assert.deepEqual((await store.read(id))?.data, data);
    }
    await store.gc();
    let failedOver = false;
    store.once('failover', () => {
      failedOver = true;
    });
    await second.stop('immediate');
    for (let writes = 0; !failedOver; writes += 1) {
      assert.ok(writes < 200, 'no write ever went to the stopped server');
      const { id, data } = session();
      await store.write(id, data);
    }
    // reads of sessions kept only on the stopped server fail (to the caller, not the log)
    const failures = await Promise.allSettled(ids.map((id) => store.read(id)));
    assert.ok(failures.some((result) => result.status === 'rejected'));
    const keepAlive = setInterval(() => {}, 1000); // health checks' timers are unref()ed
    try {
      const recovered = once(store, 'recovery');
      await second.start();
      await recovered;
    } finally {
      clearInterval(keepAlive);
    }

    // A table that is not there (and may not be created): the call fails to its caller,
    // and collecting on every access fails in the background.
    const broken = db.stores.open({
      db: db.url,
      table: uniqueTable(),
      gcInterval: -1,
      createTable: false,
      logger: log.logger,
    });
    const { id, data } = session();
    await assert.rejects(broken.write(id, data));
    await assert.rejects(broken.read(id));
    await until(
      () => log.lines().some((line) => line.code === 'SPG_GC_FAILED'),
      'gc failure logged',
    );

    const lines = log.lines();
    console.log(`pino output:\n${log.text()}`);
    const pick = ({ level, msg, server }: Record<string, unknown>) => ({ level, msg, server });
    const failover = lines.find((line) => line.msg === 'session-pgsql: server down, failing over');
    assert.deepEqual(failover && pick(failover), {
      level: 40,
      msg: 'session-pgsql: server down, failing over',
      server: 1,
    });
    assert.equal(typeof (failover?.error as { message?: unknown })?.message, 'string');
    const recovery = lines.find((line) => line.msg === 'session-pgsql: server answers again');
    assert.deepEqual(recovery && pick(recovery), {
      level: 30,
      msg: 'session-pgsql: server answers again',
      server: 1,
    });
    assert.equal(recovery?.connection, failover?.connection);
    const collections = lines.filter(
      (line) => line.msg === 'session-pgsql: expired sessions collected',
    );
    assert.deepEqual(
      collections.slice(0, 2).map((line) => [line.level, line.server, typeof line.deleted]),
      [
        [20, 0, 'number'],
        [20, 1, 'number'],
      ],
    );
    const gcFailed = lines.find((line) => line.code === 'SPG_GC_FAILED');
    assert.equal(gcFailed?.level, 50);
    assert.match(String(gcFailed?.msg), /^session-pgsql: garbage collection failed: /);

    const text = log.text();
    for (const secretId of ids) {
      assert.ok(!text.includes(secretId), 'a session id in the log');
      assert.ok(!text.includes(storedKey(secretId)), "a session id's digest in the log");
    }
    for (const secret of secrets) assert.ok(!text.includes(secret), 'session data in the log');
    if (password !== '') assert.ok(!text.includes(password), 'a password in the log');
  });

  it('without a logger, failed background work is still a process warning', async () => {
    const store = db.stores.open({
      db: db.url,
      table: uniqueTable(),
      gcInterval: -1,
      createTable: false,
    });
    const warned = new Promise<Error & { code?: string }>((resolve) => {
      const listener = (warning: Error & { code?: string }) => {
        if (warning.code !== 'SPG_GC_FAILED') return;
        process.off('warning', listener);
        resolve(warning);
      };
      process.on('warning', listener);
    });
    await assert.rejects(store.read(newId()));
    const warning = await warned;
    assert.match(warning.message, /^garbage collection failed: /);
  });

  it('refuses a logger without the four methods', () => {
    assert.throws(() => db.stores.open({ db: db.url, logger: { info() {} } as never }), {
      code: 'SPG_INVALID_OPTION',
      message: /"logger"/,
    });
  });
});
