import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { SessionPgsql } from '../../src/index.js';
import { type PostgresServer, startPostgres } from '../helpers/postgres.js';
import { type Data, newId, storedKey, storeTracker } from './fixtures.js';

/** Session ids a client may send; none matches the default idPattern. */
const hostile: Record<string, string> = {
  'single quote': "abcdefghijklmnop'qrstuvwxyz012345",
  'double quote': 'abcdefghijklmnop"qrstuvwxyz012345',
  'SQL text': "x'; DROP TABLE php_session; --hostile_sql_marker",
  'SQL tautology': "' OR '1'='1' -- hostile_tautology",
  'NUL byte': `hostile_nul_marker_${'\0'}_abcdefghijkl`,
  'only NUL bytes': '\0'.repeat(32),
  '10 kB': `hostile_10kB_marker_${'A'.repeat(10_240)}`,
  '10 kB of non-ASCII': 'é'.repeat(10_240),
  'non-ASCII': 'hostile_セッション_marker_ÄÖÜ_abcdef',
  emoji: 'hostile_😀_emoji_marker_abcdefghijkl',
  'right-to-left override': 'hostile_\u202e_rtl_marker_abcdefghijk',
  newline: 'hostile_newline_marker\nabcdefghijklmn',
  'percent and backslash': 'hostile_%_\\_marker_abcdefghijklmnop',
  'too short': 'abc',
  empty: '',
  'lone surrogate': `hostile_surrogate_${'\ud800'}_abcdefghijklm`,
};

/** Text of each hostile id that would show in a statement log if it had reached SQL. */
const markers = [
  'hostile_sql_marker',
  'hostile_tautology',
  'hostile_nul_marker',
  'hostile_10kB_marker',
  'é'.repeat(100),
  'セッション',
  'hostile_',
  'abcdefghijklmnop',
  'A'.repeat(100),
];

let server: PostgresServer;
let url: string;
const stores = storeTracker();

before(async () => {
  server = await startPostgres({ name: 'ids', config: { log_statement: 'all' } });
  url = await server.createDatabase('sessions');
});
after(async () => {
  await stores.closeAll();
  await server?.destroy();
});

/** Statements the store ran, by kind, without the `count` that status() itself runs. */
async function statementCounts(store: SessionPgsql<Data>): Promise<Record<string, number>> {
  const { count: _count, ...rest } = (await store.status()).servers[0]?.statements ?? {};
  return rest;
}

/** Waits until a statement run after everything else is in the server log. */
async function flushLog(): Promise<void> {
  const marker = `flush_${newId()}`;
  await server.query(`SELECT '${marker}'`);
  while (!server.logs().includes(marker)) await new Promise((r) => setTimeout(r, 20));
}

describe('a malformed or hostile session id', () => {
  it('is absent on read, ignored on destroy, refused on write and touch, and runs no SQL', async () => {
    const store = stores.open({ db: url, gcInterval: 0 });
    // a real session, so that the table exists and a stray statement could find something
    const valid = newId();
    await store.write(valid, { victim: true });
    const before = await statementCounts(store);
    const logStart = server.logs().length;

    for (const [name, id] of Object.entries(hostile)) {
      assert.equal(await store.read(id), undefined, `read ${name}`);
      assert.equal(await store.destroy(id), undefined, `destroy ${name}`);
      await assert.rejects(
        store.write(id, { evil: true }),
        { code: 'SPG_INVALID_SESSION_ID' },
        name,
      );
      await assert.rejects(store.touch(id), { code: 'SPG_INVALID_SESSION_ID' }, name);
      // the metadata of a new session with such an id reaches nothing either
      store.newState(id).setField('x');
    }

    assert.deepEqual(await statementCounts(store), before);
    await flushLog();
    const log = server.logs().slice(logStart);
    for (const marker of markers) assert.equal(log.includes(marker), false, marker);
    assert.equal(log.includes('evil'), false);
    // the valid session was not harmed, and its own statements are logged (the log works)
    const logBeforeValid = server.logs().length;
    assert.deepEqual((await store.read(valid))?.data, { victim: true });
    await flushLog();
    assert.ok(server.logs().slice(logBeforeValid).includes(storedKey(valid)));
    assert.equal(await store.length(), 1);
  });

  it('ids of other types are absent too', async () => {
    const store = stores.open({ db: url, gcInterval: 0 });
    const before = await statementCounts(store);
    for (const id of [undefined, null, 42, {}, ['a'.repeat(32)]]) {
      const cast = id as unknown as string;
      assert.equal(await store.read(cast), undefined);
      assert.equal(await store.destroy(cast), undefined);
      await assert.rejects(store.write(cast, {}), { code: 'SPG_INVALID_SESSION_ID' });
    }
    assert.deepEqual(await statementCounts(store), before);
  });
});

describe('an id that a custom idPattern lets through', () => {
  it('reaches SQL only as a bound parameter (hashIds: false keeps it verbatim)', async () => {
    const table = 'verbatim';
    const store = stores.open({
      db: url,
      table,
      gcInterval: 0,
      hashIds: false,
      idPattern: /^[^\0]{1,200}$/u,
    });
    const ids = [
      'O\'Brien"; DROP TABLE verbatim; --',
      "' OR '1'='1",
      '$1 $2 \\x00 %s',
      'セッション 😀',
    ];
    for (const id of ids) await store.write(id, { id });
    for (const id of ids) assert.deepEqual((await store.read(id))?.data, { id });
    const { rows } = await server.query<{ sess_id: string }>(
      `SELECT sess_id FROM ${pg.escapeIdentifier(table)} ORDER BY sess_id`,
      [],
      'sessions',
    );
    assert.deepEqual(
      rows.map((r) => r.sess_id),
      [...ids].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
    );
    // ids the pattern still refuses (NUL) never reach SQL
    await assert.rejects(store.write('a\0b', {}), { code: 'SPG_INVALID_SESSION_ID' });
  });
});
