import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { SessionPgsql } from '../../src/index.js';
import { sharedDatabaseUrl } from '../helpers/postgres.js';
import { runCli, startCli } from './run-cli.js';

const TABLE = 'cli_dashboard';
const URL_LINE = /^session-pgsql dashboard on (http:\/\/127\.0\.0\.1:\d+\/) \(Ctrl-C stops it\)$/;

interface Data {
  readonly allowRevoke: boolean;
  readonly store: { readonly table: string; readonly serverCount: number };
  readonly servers: readonly { readonly up: boolean; readonly sessions: number | null }[];
  readonly sessions: readonly unknown[] | null;
}

let url: string;
before(async () => {
  url = await sharedDatabaseUrl();
  const store = new SessionPgsql({ db: url, table: TABLE, gcInterval: 0 });
  try {
    await store.clear();
    for (const id of ['a', 'b', 'c']) await store.write(id.repeat(32), { n: id });
  } finally {
    await store.close();
  }
});

/** The dashboard command, running until `use` is done; then SIGTERM must close it (0). */
async function withDashboard(args: readonly string[], use: (address: string) => Promise<void>) {
  const cli = await startCli(['dashboard', '--db', url, '--table', TABLE, '--port', '0', ...args]);
  const shown = URL_LINE.exec(cli.firstLine);
  try {
    assert.ok(shown, cli.firstLine);
    await use(shown[1] as string);
  } finally {
    const { code, stderr } = await cli.stop();
    assert.equal(code, 0, stderr);
    assert.match(stderr, /SIGTERM: closing/);
  }
}

const revoke = (address: string) =>
  fetch(new URL('revoke', address), {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-session-pgsql-dashboard': 'revoke' },
    body: JSON.stringify({ user: 'nobody' }),
  });

describe('session-pgsql dashboard', () => {
  it('serves the page and its live numbers over HTTP; read only by default (revoke refused)', async () => {
    await withDashboard([], async (address) => {
      const page = await fetch(address);
      assert.equal(page.status, 200);
      assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(await page.text(), /<title>session-pgsql<\/title>/);
      const data = (await (await fetch(new URL('data.json', address))).json()) as Data;
      assert.equal(data.allowRevoke, false);
      assert.equal(data.store.table, `"${TABLE}"`);
      assert.equal(data.store.serverCount, 1);
      assert.deepEqual(
        data.servers.map((s) => [s.up, s.sessions]),
        [[true, 3]],
      );
      assert.equal(data.sessions, null);
      const store = new SessionPgsql({ db: url, table: TABLE, gcInterval: 0 });
      try {
        await store.write('d'.repeat(32), { n: 'd' });
      } finally {
        await store.close();
      }
      const after = (await (await fetch(new URL('data.json', address))).json()) as Data;
      assert.deepEqual(
        after.servers.map((s) => s.sessions),
        [4],
      );
      const refused = await revoke(address);
      assert.equal(refused.status, 404);
    });
  });

  it('--allow-revoke: the sessions are listed and revoke answers', async () => {
    await withDashboard(['--allow-revoke'], async (address) => {
      const data = (await (await fetch(new URL('data.json', address))).json()) as Data;
      assert.equal(data.allowRevoke, true);
      assert.equal(data.sessions?.length, data.servers[0]?.sessions);
      assert.ok((data.sessions?.length ?? 0) >= 3);
      const answer = await revoke(address);
      assert.equal(answer.status, 200);
      assert.deepEqual(await answer.json(), { revoked: 0 });
    });
  });

  it('a port in use: usage error (2), nothing served', async () => {
    await withDashboard([], async (address) => {
      const port = new URL(address).port;
      const { code, stderr } = await runCli(['dashboard', '--db', url, '--port', port]);
      assert.equal(code, 2);
      assert.match(stderr, /cannot listen on http:\/\/127\.0\.0\.1:\d+\/: listen EADDRINUSE/);
    });
  });
});
