import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import pg from 'pg';
import { SessionPgsql, type UpgradeTableResult } from '../../src/index.js';
import { sharedDatabaseUrl } from '../helpers/postgres.js';
import { runQuery } from '../helpers/query.js';
import { createSessionPgsqlTable } from '../helpers/session-pgsql-table.js';
import { runCli } from './run-cli.js';

let url: string;
before(async () => {
  url = await sharedDatabaseUrl();
});

/** session_pgsql's table before 1.0.1, with an id stored twice and a row without an id. */
async function oldTable(table: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await createSessionPgsqlTable(client, table, { primaryKey: false });
    const now = Math.floor(Date.now() / 1000);
    const insert = `INSERT INTO ${table} (sess_id, sess_data, sess_modified, sess_expire) VALUES ($1, $2, $3, $4)`;
    await client.query(insert, ['twice', 'older', now - 10, now + 3600]);
    await client.query(insert, ['twice', 'newer', now, now + 3600]);
    await client.query(insert, [null, 'nobody', now, now + 3600]);
  } finally {
    await client.end();
  }
}

describe('session-pgsql upgrade', () => {
  it('adds the primary key, widens the times and adds the index, keeping the newest row; again: nothing to do', async () => {
    await oldTable('cli_upgrade');
    const { code, stdout, stderr } = await runCli([
      'upgrade',
      '--db',
      url,
      '--table',
      'cli_upgrade',
      '--json',
    ]);
    assert.equal(code, 0, stderr);
    const result = JSON.parse(stdout) as UpgradeTableResult;
    assert.equal(result.changed, true);
    const [server] = result.servers;
    assert.deepEqual(
      { ...server, connection: undefined },
      {
        server: 0,
        connection: undefined,
        table: '"cli_upgrade"',
        created: false,
        primaryKeyAdded: true,
        duplicatesRemoved: 1,
        nullIdsRemoved: 1,
        widenedColumns: ['sess_created', 'sess_modified', 'sess_expire'],
        expireIndexCreated: true,
        sessions: 1,
      },
    );
    const { rows } = await runQuery(url, 'SELECT sess_id, sess_data FROM cli_upgrade');
    assert.deepEqual(rows, [{ sess_id: 'twice', sess_data: 'newer' }]);

    const again = await runCli(['upgrade', '--db', url, '--table', 'cli_upgrade']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /: the table "cli_upgrade" needs no upgrade \(1 session\)\n$/);
  });

  it('text output says what was done', async () => {
    await oldTable('cli_upgrade_text');
    const { code, stdout } = await runCli(['upgrade', '--db', url, '--table', 'cli_upgrade_text']);
    assert.equal(code, 0);
    assert.match(
      stdout,
      /: upgraded the table "cli_upgrade_text": added the primary key on sess_id \(removed 1 older duplicate rows and 1 rows without an id\); turned sess_created, sess_modified, sess_expire into bigint; created the expiry index \(1 session kept\)\n$/,
    );
  });

  it('--print connects nowhere; its SQL upgrades an old table so that the store writes to it', async () => {
    await oldTable('cli_upgrade_printed');
    const { code, stdout } = await runCli(['upgrade', '--print', '--table', 'cli_upgrade_printed']);
    assert.equal(code, 0);
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(stdout);
    } finally {
      await client.end();
    }
    const store = new SessionPgsql({ db: url, table: 'cli_upgrade_printed', gcInterval: 0 });
    try {
      await store.write('c'.repeat(32), { upgraded: true });
      assert.equal(await store.length(), 2);
    } finally {
      await store.close();
    }
  });

  it('--lock-timeout must be a number: usage error (2)', async () => {
    const { code, stderr } = await runCli(['upgrade', '--db', url, '--lock-timeout', 'soon']);
    assert.equal(code, 2);
    assert.match(stderr, /--lock-timeout must be a whole number of at least 1, got "soon"/);
  });
});
