import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { type PostgresServer, startPostgres } from './postgres.js';

/** Alive and not a zombie. */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function connect(url: string, options: pg.ClientConfig = {}): Promise<pg.Client> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: 5_000,
    ...options,
  });
  client.on('error', () => {});
  await client.connect();
  return client;
}

describe('startPostgres', { timeout: 120_000 }, () => {
  let server: PostgresServer;

  before(async () => {
    server = await startPostgres({ name: 'helper', config: { log_statement: 'all' } });
  });
  after(() => server?.destroy());

  it('runs a real PostgreSQL with the given config and collects its logs', async () => {
    assert.ok(existsSync(join(server.binDir, 'pg_ctl')));
    assert.match(server.url, /^postgres:\/\/postgres:[^@]+@127\.0\.0\.1:\d+\/postgres$/);
    const { rows } = await server.query(
      "SELECT current_user AS user, current_setting('log_statement') AS log_statement, $1 AS marker",
      ['logged-marker'],
    );
    assert.deepEqual(rows, [{ user: 'postgres', log_statement: 'all', marker: 'logged-marker' }]);
    for (let i = 0; i < 50 && !server.logs().includes('logged-marker'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.match(server.logs(), /logged-marker/);
  });

  it('pause() makes queries and connections time out, resume() recovers', async () => {
    const client = await connect(server.url, { query_timeout: 500 });
    server.pause();
    try {
      await assert.rejects(client.query('SELECT 1'), /timeout/i);
      await assert.rejects(connect(server.url, { connectionTimeoutMillis: 500 }), /timeout/i);
    } finally {
      server.resume();
    }
    assert.deepEqual((await client.query('SELECT 2 AS two')).rows, [{ two: 2 }]);
    await client.end();
    assert.deepEqual((await server.query('SELECT 3 AS three')).rows, [{ three: 3 }]);
  });

  it("stop('immediate') refuses connections, start() brings the same data back", async () => {
    await server.query('CREATE TABLE survivor (id int)');
    await server.query('INSERT INTO survivor VALUES (42)');
    const pid = server.pid;
    assert.ok(pid);
    await server.stop('immediate');
    assert.equal(server.pid, undefined);
    assert.equal(isAlive(pid), false);
    await assert.rejects(connect(server.url), { code: 'ECONNREFUSED' });
    await server.start();
    assert.deepEqual((await server.query('SELECT id FROM survivor')).rows, [{ id: 42 }]);
  });

  it('createDatabase() + createRole() give a least-privilege login', async () => {
    const dbUrl = await server.createDatabase();
    const plain = await connect(await server.createRole('plain_user', { database: dbUrl }));
    const { rows } = await plain.query(
      'SELECT current_user AS user, current_database() AS db, rolsuper, rolcreatedb FROM pg_roles WHERE rolname = current_user',
    );
    assert.deepEqual(rows, [
      {
        user: 'plain_user',
        db: new URL(dbUrl).pathname.slice(1),
        rolsuper: false,
        rolcreatedb: false,
      },
    ]);
    // PostgreSQL 15+: no CREATE on schema public for ordinary roles
    await assert.rejects(plain.query('CREATE TABLE t (id int)'), { code: '42501' });
    await plain.end();

    const ownerUrl = await server.createRole('owner_user', {
      database: dbUrl,
      grants: ['GRANT CREATE ON SCHEMA public TO owner_user'],
    });
    const owner = await connect(ownerUrl);
    await owner.query('CREATE TABLE t (id int)');
    await owner.end();
  });

  it('each server is a cluster of its own (copies of one initdb), with its config and password', async () => {
    const other = await startPostgres({ name: 'helper-other' });
    try {
      await server.query('CREATE TABLE only_on_the_first (id int)');
      const lookUp = "SELECT to_regclass('only_on_the_first') IS NOT NULL AS found";
      assert.deepEqual((await server.query(lookUp)).rows, [{ found: true }]);
      assert.deepEqual((await other.query(lookUp)).rows, [{ found: false }]);
      const setting = "SELECT current_setting('log_statement') AS value";
      assert.deepEqual((await other.query(setting)).rows, [{ value: 'none' }]);
      assert.notEqual(other.dataDir, server.dataDir);
      assert.notEqual(other.port, server.port);
      // the URL of one server, with the other's port (as if it took a port freed meanwhile)
      const wrong = new URL(server.url);
      wrong.port = String(other.port);
      await assert.rejects(connect(wrong.href), { code: '28P01' }); // password authentication failed
    } finally {
      await other.destroy();
    }
  });

  it('destroy() stops the server and removes its data dir', async () => {
    const pid = server.pid;
    assert.ok(pid);
    await server.destroy();
    assert.equal(isAlive(pid), false);
    assert.equal(existsSync(server.dataDir), false);
    await assert.rejects(connect(server.url), { code: 'ECONNREFUSED' });
  });
});

describe('servers of a process that ends', { timeout: 60_000 }, () => {
  const helper = new URL('./postgres.ts', import.meta.url).href;

  /** Runs a process that starts a server, prints its pid and data dir, then runs `then`. */
  async function orphanTest(then: string, kill?: NodeJS.Signals): Promise<void> {
    const code = `const { startPostgres } = await import(${JSON.stringify(helper)});
      const s = await startPostgres({ name: 'orphan' });
      console.log(JSON.stringify({ pid: s.pid, dataDir: s.dataDir }));
      ${then}`;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    let output = '';
    child.stdout.setEncoding('utf8');
    for await (const chunk of child.stdout) {
      output += chunk;
      if (output.includes('\n')) break;
    }
    const started: { pid: number; dataDir: string } = JSON.parse(output);
    if (kill) {
      assert.equal(isAlive(started.pid), true);
      child.kill(kill);
    }
    await exited;
    assert.equal(isAlive(started.pid), false);
    assert.equal(existsSync(started.dataDir), false);
  }

  it('leaves no postgres behind on a normal exit', () => orphanTest(''));
  it('leaves no postgres behind on SIGTERM', () =>
    orphanTest('setInterval(() => {}, 1000);', 'SIGTERM'));
});
