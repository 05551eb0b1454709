import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SessionPgsql, type StoreStatus } from '../../src/index.js';
import { type PostgresServer, sharedDatabaseUrl, startPostgres } from '../helpers/postgres.js';
import { runCli } from './run-cli.js';

let shared: string;
let second: PostgresServer;
let db: string;
const table = 'cli_status';

before(async () => {
  shared = await sharedDatabaseUrl();
  second = await startPostgres({ name: 'cli-status' });
  db = `${shared};${await second.createDatabase('sessions')}`;
  const store = new SessionPgsql({ db, table, gcInterval: 0 });
  try {
    // sessions on both servers (rendezvous spreads 20 of them over two)
    for (let i = 0; i < 20; i += 1) await store.write(String(i).padStart(32, 'x'), { i });
  } finally {
    await store.close();
  }
});
after(() => second?.destroy());

type Report = StoreStatus & { sessions: number };

describe('session-pgsql status', () => {
  it('every server up, its latency and the sessions it holds; exit code 0', async () => {
    const { code, stdout, stderr } = await runCli(['status', '--db', db, '--table', table]);
    assert.equal(code, 0, stderr);
    const lines = stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^server +state +latency +sessions +connection$/);
    assert.match(lines[1] ?? '', /^0 +up +\d+\.\d ms +\d+ +postgres:\/\/postgres:\*\*\*@/);
    assert.match(lines[2] ?? '', /^1 +up +\d+\.\d ms +\d+ +postgres:\/\/postgres:\*\*\*@/);
    assert.equal(lines[3], '"cli_status": 20 live sessions; 2 servers, 2 up');
    const json = await runCli(['status', '--db', db, '--table', table, '--json']);
    const report = JSON.parse(json.stdout) as Report;
    assert.equal(report.sessions, 20);
    assert.equal(report.serverCount, 2);
    assert.deepEqual(
      report.servers.map((s) => s.up),
      [true, true],
    );
    assert.ok(
      report.servers.every((s) => (s.sessions ?? 0) > 0),
      'both servers hold sessions',
    );
  });

  it('a server stopped: reported down with its error, the other still counted; exit code 3', async () => {
    await second.stop();
    try {
      const { code, stdout } = await runCli(['status', '--db', db, '--table', table]);
      assert.equal(code, 3);
      const lines = stdout.trimEnd().split('\n');
      assert.match(lines[1] ?? '', /^0 +up +/);
      assert.match(lines[2] ?? '', /^1 +down +- +- +postgres:/);
      assert.match(lines[3] ?? '', /^ +cannot reach PostgreSQL/);
      assert.match(lines[4] ?? '', /^"cli_status": \d+ live sessions; 2 servers, 1 up, 1 down$/);
      const json = await runCli(['status', '--db', db, '--table', table, '--json']);
      assert.equal(json.code, 3);
      const report = JSON.parse(json.stdout) as Report;
      assert.equal(report.servers[1]?.up, false);
      assert.equal(report.servers[1]?.sessions, null);
      assert.match(report.servers[1]?.lastError ?? '', /cannot reach PostgreSQL/);
      assert.equal(report.sessions, report.servers[0]?.sessions);
    } finally {
      await second.start();
    }
  });

  it('a missing table: the server answers with an error; exit code 1', async () => {
    const { code, stdout } = await runCli(['status', '--db', shared, '--table', 'cli_status_none']);
    assert.equal(code, 1);
    assert.match(stdout, /^0 +error +/m);
    assert.match(stdout, /the session table "cli_status_none" does not exist/);
  });
});
