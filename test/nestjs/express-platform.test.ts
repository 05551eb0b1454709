/**
 * NestJS through the Express adapter: example/nestjs.ts (Nest 12, @nestjs/platform-express,
 * express-session, PgsqlStore and saveBeforeResponse) runs in a process of its own, as
 * `npm run start:nestjs` runs it, on real PostgreSQL; a real HTTP round trip keeps a session
 * across requests, and the row holds what the app answered.
 */
import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Client, type CookieFormat } from '../helpers/cookie-client.js';
import { sharedDatabaseUrl } from '../helpers/postgres.js';
import { Sql } from '../helpers/session-sql.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const NEST_COOKIE: CookieFormat = {
  name: 'connect.sid',
  prefix: 's:',
  secret: 'session-pgsql nestjs example: not a secret',
};

describe('the NestJS example', { timeout: 120_000 }, () => {
  let child: ChildProcessWithoutNullStreams;
  let stderr = '';
  let url: string;
  let sql: Sql;

  before(async () => {
    const db = await sharedDatabaseUrl();
    sql = new Sql(db);
    child = spawn(process.execPath, ['--import', 'tsx', 'example/nestjs.ts'], {
      cwd: root,
      env: {
        ...process.env,
        DATABASE_URL: db,
        PORT: '0',
        HOST: '127.0.0.1',
        TSX_TSCONFIG_PATH: 'example/tsconfig.nestjs.json',
      },
    });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (text: string) => {
      stderr += text;
    });
    const exited = once(child, 'exit').then(([code]) => {
      throw new Error(`the example exited (code ${code}) before listening:\n${stderr}`);
    });
    const listening = new Promise<string>((resolve) => {
      createInterface({ input: child.stdout }).on('line', (line) => {
        const found = /on (http:\/\/\S+)/.exec(line);
        if (found?.[1]) resolve(found[1]);
      });
    });
    url = await Promise.race([listening, exited]);
  });
  after(async () => {
    if (child && child.exitCode === null) {
      const exit = once(child, 'exit');
      child.kill('SIGTERM');
      await exit;
    }
    await sql?.close();
  });

  it('keeps a session across requests, stored in PostgreSQL', async () => {
    const client = new Client(url, NEST_COOKIE);
    const first = await client.post<{ visits: number }>('/visit');
    assert.equal(first.status, 201, "Nest's POST status");
    assert.deepEqual(first.body, { visits: 1 });
    assert.ok(first.setId, 'a session cookie');
    const second = await client.post<{ visits: number }>('/visit');
    assert.deepEqual(second.body, { visits: 2 });
    assert.equal(client.sessionId, first.setId, 'the same session');
    const stored = await sql.data('php_session', first.setId);
    assert.equal(stored.visits, 2);
  });

  it('the metadata helpers work on Nest requests', async () => {
    const client = new Client(url, NEST_COOKIE);
    await client.post('/visit');
    const notice = await client.post<{ notice: number }>('/notice');
    assert.equal(notice.status, 201);
    const r = await client.get<{
      info: { id: string; accesses: number; createdAddress: string | null };
      errors: { notice: number; message: string | null };
    }>('/info');
    assert.equal(r.status, 200);
    assert.equal(r.body.info.id, client.sessionId);
    assert.equal(r.body.info.accesses, 2);
    assert.equal(r.body.info.createdAddress, '127.0.0.1');
    assert.deepEqual(r.body.errors, { error: 0, warning: 0, notice: 1, message: 'seen by nest' });
    const row = await sql.mustRow('php_session', client.sessionId ?? '');
    assert.equal(row.sess_notice, 1);
  });
});
