import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SessionPgsql } from '../../src/index.js';
import { sharedDatabaseUrl } from '../helpers/postgres.js';
import { runQuery } from '../helpers/query.js';
import { runCli, runCliOnTerminal } from './run-cli.js';

let url: string;
let store: SessionPgsql;
const table = 'cli_gc';

before(async () => {
  url = await sharedDatabaseUrl();
  store = new SessionPgsql({ db: url, table, gcInterval: 0 });
});
after(() => store.close());

/** Writes `live` sessions and `expired` ones (their expiry moved into the past). */
async function sessions(live: number, expired: number, tag: string): Promise<void> {
  for (let i = 0; i < live + expired; i += 1) {
    await store.write(`${tag}${String(i).padStart(32, '0')}`, { i });
  }
  await runQuery(
    url,
    `UPDATE ${table} SET sess_expire = sess_expire - 100000 WHERE sess_id IN (SELECT sess_id FROM ${table} WHERE sess_expire > extract(epoch FROM now()) ORDER BY sess_id LIMIT $1)`,
    [expired],
  );
}

describe('session-pgsql gc', () => {
  it('deletes the expired sessions, keeps the live ones, and says so in one line', async () => {
    await sessions(2, 3, 'a');
    const { code, stdout, stderr } = await runCli(['gc', '--db', url, '--table', table]);
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^deleted 3 expired sessions on 1 server in \d+ ms\n$/);
    assert.equal(stderr.includes('\r'), false, 'no progress bar when stderr is not a terminal');
    assert.equal(await store.length(), 2);
  });

  it('--json, and --batch-size: the rows deleted and how long each server took', async () => {
    await sessions(0, 5, 'b');
    const { code, stdout } = await runCli([
      'gc',
      '--db',
      url,
      '--table',
      table,
      '--batch-size',
      '2',
      '--json',
    ]);
    assert.equal(code, 0);
    const result = JSON.parse(stdout) as {
      deleted: number;
      servers: { server: number; deleted: number; connection: string }[];
    };
    assert.equal(result.deleted, 5);
    assert.deepEqual(
      result.servers.map(({ server, deleted }) => ({ server, deleted })),
      [{ server: 0, deleted: 5 }],
    );
    assert.match(result.servers[0]?.connection ?? '', /:\*\*\*@/, 'password hidden');
  });

  it('on a terminal: a progress bar, cleared before the summary line', async () => {
    await sessions(0, 1, 'c');
    const { code, stdout } = await runCliOnTerminal(['gc', '--db', url, '--table', table]);
    assert.equal(code, 0, stdout);
    const clearLine = `\r${String.fromCharCode(27)}[2K`;
    assert.ok(
      stdout.includes(
        `[${'#'.repeat(30)}] 1/1 servers, 1 session deleted${clearLine}deleted 1 expired session on 1 server`,
      ),
      JSON.stringify(stdout),
    );
  });

  it("a table that is not there: failure (1), and it is not created behind the operator's back", async () => {
    const { code, stderr } = await runCli(['gc', '--db', url, '--table', 'cli_gc_missing']);
    assert.equal(code, 1);
    assert.match(
      stderr,
      /"cli_gc_missing" does not exist.*\(SPG_TABLE_SETUP_FAILED\)\nrun "session-pgsql init" first/,
    );
    const { rows } = await runQuery(url, "SELECT to_regclass('cli_gc_missing') AS oid");
    assert.equal(rows[0]?.oid, null);
  });

  it('a server that is not there: exit code 3', async () => {
    const { code, stderr } = await runCli(['gc', '--db', 'host=127.0.0.1 port=1 user=x dbname=x']);
    assert.equal(code, 3);
    assert.match(stderr, /^session-pgsql gc: cannot reach PostgreSQL.*\(SPG_DB_UNREACHABLE\)\n$/);
  });
});
