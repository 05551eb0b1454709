import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { before, describe, it } from 'node:test';
import pg from 'pg';
import { SessionPgsql } from '../../src/index.js';
import { sharedDatabaseUrl } from '../helpers/postgres.js';
import { runQuery, withDatabase } from '../helpers/query.js';
import { createSessionPgsqlTable } from '../helpers/session-pgsql-table.js';
import { asRole, runCli } from './run-cli.js';

let url: string;
before(async () => {
  url = await sharedDatabaseUrl();
});

const tableExists = async (db: string, table: string) =>
  (await runQuery<{ oid: string | null }>(db, 'SELECT to_regclass($1)::text AS oid', [table]))
    .rows[0]?.oid !== null;

describe('session-pgsql init', () => {
  it('without --db nor SESSION_PGSQL_DB: a usage error (2) that says how to name the database', async () => {
    const { code, stdout, stderr } = await runCli(['init']);
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.match(stderr, /no database: pass --db CONNINFO or set SESSION_PGSQL_DB/);
    assert.match(stderr, /--db embedded:DIR/);
  });

  it('creates the table and its index, then finds it there; SESSION_PGSQL_DB works as --db', async () => {
    const first = await runCli(['init', '--db', url, '--table', 'cli_init']);
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /^server 0 \(.*\): created the table "cli_init" and its index\n$/);
    assert.doesNotMatch(first.stdout, new RegExp(new URL(url).password), 'no password shown');
    assert.equal(await tableExists(url, 'cli_init'), true);
    assert.equal(await tableExists(url, 'cli_init_expire_idx'), true);
    const again = await runCli(['init', '--table', 'cli_init', '--json'], {
      env: { SESSION_PGSQL_DB: url },
    });
    assert.equal(again.code, 0, again.stderr);
    const result = JSON.parse(again.stdout) as { servers: Record<string, unknown>[] };
    assert.equal(result.servers.length, 1);
    assert.deepEqual(
      { ...result.servers[0], connection: undefined },
      {
        server: 0,
        connection: undefined,
        table: '"cli_init"',
        created: false,
        role: null,
      },
    );
  });

  it('--role: the role gets what the store needs on the table and runs it with createTable: false', async () => {
    const db = withDatabase(url, `cli_role_${randomBytes(4).toString('hex')}`);
    await runQuery(url, `CREATE DATABASE ${pg.escapeIdentifier(new URL(db).pathname.slice(1))}`);
    const role = `cli_app_${randomBytes(4).toString('hex')}`;
    const password = randomBytes(12).toString('hex');
    await runQuery(db, `CREATE ROLE ${role} LOGIN PASSWORD '${password}'`);
    // nothing for PUBLIC: without the GRANTs the role could not even connect
    const name = pg.escapeIdentifier(new URL(db).pathname.slice(1));
    await runQuery(db, `REVOKE ALL ON DATABASE ${name} FROM PUBLIC`);
    await runQuery(db, 'REVOKE ALL ON SCHEMA public FROM PUBLIC');
    const appUrl = asRole(db, role, password);
    const store = new SessionPgsql({ db: appUrl, createTable: false, gcInterval: 0 });
    try {
      await assert.rejects(store.length(), { code: 'SPG_DB_QUERY_FAILED' }, 'no access yet');
      const { code, stdout, stderr } = await runCli(['init', '--db', db, '--role', role]);
      assert.equal(code, 0, stderr);
      assert.match(stdout, new RegExp(`granted "${role}" what it needs`));
      await store.write('a'.repeat(32), { n: 1 });
      assert.deepEqual((await store.read('a'.repeat(32)))?.data, { n: 1 });
      assert.equal(await store.gc(), 0);
      // and no more: it cannot create a table next to it
      await assert.rejects(runQuery(appUrl, 'CREATE TABLE other (x int)'), { code: '42501' });
    } finally {
      await store.close();
    }
  });

  it('--print connects nowhere and prints SQL that sets the table up as init does', async () => {
    const { code, stdout, stderr } = await runCli([
      'init',
      '--print',
      '--table',
      'cli_printed',
      '--role',
      'nobody_yet',
    ]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /CREATE TABLE IF NOT EXISTS "cli_printed" \(/);
    assert.match(stdout, /CREATE INDEX IF NOT EXISTS "cli_printed_expire_idx"/);
    assert.match(
      stdout,
      /GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE "cli_printed" TO "nobody_yet";/,
    );
    const script = stdout.split('\n\n')[0] as string; // the table, without the GRANTs
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query(script);
    } finally {
      await client.end();
    }
    const store = new SessionPgsql({
      db: url,
      table: 'cli_printed',
      createTable: false,
      gcInterval: 0,
    });
    try {
      await store.write('b'.repeat(32), { printed: true });
      assert.equal(await store.length(), 1);
    } finally {
      await store.close();
    }
  });

  it('a session_pgsql table before 1.0.1: failure (1), with the way out', async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await createSessionPgsqlTable(client, 'cli_old', { primaryKey: false });
    } finally {
      await client.end();
    }
    const { code, stderr } = await runCli(['init', '--db', url, '--table', 'cli_old']);
    assert.equal(code, 1);
    assert.match(stderr, /\(SPG_TABLE_UPGRADE_NEEDED\)\nrun "session-pgsql upgrade"/);
  });

  it('a server that does not answer: exit code 3', async () => {
    const { code, stderr } = await runCli([
      'init',
      '--db',
      'host=127.0.0.1 port=1 dbname=x user=x',
      '--json',
    ]);
    assert.equal(code, 3);
    assert.equal(
      (JSON.parse(stderr) as { error: { code: string } }).error.code,
      'SPG_DB_UNREACHABLE',
    );
  });

  it('an unknown flag is a usage error (2)', async () => {
    const { code, stderr } = await runCli(['init', '--tabel', 'x']);
    assert.equal(code, 2);
    assert.match(stderr, /Unknown option '--tabel'/);
    assert.match(stderr, /Run "session-pgsql init --help"/);
  });
});
