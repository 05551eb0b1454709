import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import connectPgSimple from 'connect-pg-simple';
import session from 'express-session';
import pg from 'pg';
import { type ImportProgress, SessionPgsql } from '../../src/index.js';
import { sharedDatabaseUrl } from '../helpers/postgres.js';
import { runCli } from './run-cli.js';

const PGStore = connectPgSimple(session);
const source = 'cli_cps_session';
const table = 'cli_imported';
let url: string;

before(async () => {
  url = await sharedDatabaseUrl();
  // sessions as connect-pg-simple itself writes them
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const store = new PGStore({
    pool,
    tableName: source,
    createTableIfMissing: true,
    pruneSessionInterval: false,
  });
  const set = (sid: string, expires: Date, data: Record<string, unknown>) =>
    new Promise<void>((resolve, reject) =>
      store.set(
        sid,
        { cookie: { expires, originalMaxAge: 3600_000 }, ...data } as never,
        (error) => (error ? reject(error) : resolve()),
      ),
    );
  const hour = new Date(Date.now() + 3600_000);
  await set('alice-session-id-0000000000000000', hour, { user: 'alice' });
  await set('bob-session-id-00000000000000000', hour, { user: 'bob' });
  await set('carol-session-id-000000000000000', new Date(Date.now() - 1000), { user: 'carol' });
  await (store.close() as unknown as Promise<void>);
  await pool.end();
});

describe('session-pgsql import connect-pg-simple', () => {
  let store: SessionPgsql<Record<string, unknown>>;
  before(() => {
    store = new SessionPgsql({ db: url, table, gcInterval: 0 });
  });
  after(() => store.close());

  it('brings the live sessions over under the same ids, leaves the expired one behind', async () => {
    const { code, stdout, stderr } = await runCli([
      'import',
      'connect-pg-simple',
      '--db',
      url,
      '--source-table',
      source,
      '--table',
      table,
    ]);
    assert.equal(code, 0, stderr);
    assert.equal(
      stdout,
      `imported 2 sessions from "${source}" (read 3: 0 kept as they were, 1 expired, 0 with an id the store refuses, 0 unreadable, 0 too large) in 1 batch\n`,
    );
    assert.equal((await store.read('alice-session-id-0000000000000000'))?.data?.user, 'alice');
    assert.equal((await store.read('bob-session-id-00000000000000000'))?.data?.user, 'bob');
    assert.equal(await store.read('carol-session-id-000000000000000'), undefined);
  });

  it('again, with --json and --batch-size: nothing new, nothing overwritten', async () => {
    await store.write('alice-session-id-0000000000000000', {
      user: 'alice',
      since: 'session-pgsql',
    });
    const { code, stdout } = await runCli(
      [
        'import',
        'connect-pg-simple',
        '--from',
        url,
        '--source-table',
        source,
        '--batch-size',
        '2',
        '--table',
        table,
        '--json',
      ],
      { env: { SESSION_PGSQL_DB: url } },
    );
    assert.equal(code, 0);
    const result = JSON.parse(stdout) as ImportProgress;
    assert.deepEqual(result, {
      batches: 2,
      read: 3,
      imported: 0,
      kept: 2,
      expired: 1,
      invalidIds: 0,
      unreadable: 0,
      tooLarge: 0,
    });
    assert.equal(
      (await store.read('alice-session-id-0000000000000000'))?.data?.since,
      'session-pgsql',
    );
  });

  it('a source table that is not there: usage error (2), nothing created', async () => {
    const { code, stderr } = await runCli([
      'import',
      'connect-pg-simple',
      '--db',
      url,
      '--source-table',
      'no_such_table',
    ]);
    assert.equal(code, 2);
    assert.match(stderr, /connect-pg-simple's table "no_such_table" does not exist/);
  });
});
