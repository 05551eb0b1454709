import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { SessionPgsql } from '../../src/index.js';
import { sharedDatabaseUrl } from '../helpers/postgres.js';
import { runCli, startCli } from './run-cli.js';

let url: string;
before(async () => {
  url = await sharedDatabaseUrl();
});

describe('session-pgsql demo', () => {
  it('serves the example app over HTTP, its sessions in the table; SIGTERM closes it (0)', async () => {
    const demo = await startCli(['demo', '--db', url, '--table', 'cli_demo', '--port', '0']);
    const shown = /^session-pgsql demo on (http:\/\/127\.0\.0\.1:\d+\/) \(Ctrl-C stops it\)$/.exec(
      demo.firstLine,
    );
    assert.ok(shown, demo.firstLine);
    const address = shown[1] as string;
    try {
      const first = await fetch(address);
      assert.match(await first.text(), /<h1>Visit number 1<\/h1>/);
      const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0] as string;
      assert.match(cookie, /^connect\.sid=/);
      const second = await fetch(address, { headers: { cookie } });
      const page = await second.text();
      assert.match(page, /<h1>Visit number 2<\/h1>/);
      assert.match(page, /<th>accesses<\/th><td>1<\/td>/);
    } finally {
      const { code, stderr } = await demo.stop();
      assert.equal(code, 0, stderr);
      assert.match(stderr, /SIGTERM: closing/);
    }
    const store = new SessionPgsql({ db: url, table: 'cli_demo', gcInterval: 0 });
    try {
      assert.equal(await store.length(), 1);
    } finally {
      await store.close();
    }
  });

  it('--port must be a number: usage error (2)', async () => {
    const { code, stderr } = await runCli(['demo', '--db', url, '--port', 'http']);
    assert.equal(code, 2);
    assert.match(stderr, /--port must be a whole number of at least 0/);
  });
});
