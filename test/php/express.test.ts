/**
 * express-session with `serializer: 'php'`: over real HTTP, the session is stored in PHP's
 * format (express-session's cookie settings as one more session variable), read back on
 * the next request, and readable by real PHP 8.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Sql, startApp, type TestApp } from '../helpers/express-app.js';
import { sharedDatabaseUrl } from '../helpers/postgres.js';
import { decodeInPhp } from './fixtures.js';

let app: TestApp;
let sql: Sql;
const table = `php_express_${process.pid}`;

before(async () => {
  const url = await sharedDatabaseUrl();
  sql = new Sql(url);
  app = await startApp({ store: { db: url, table, serializer: 'php' } });
});
after(async () => {
  await app?.close();
  await sql?.pool.end();
});

describe("express-session with serializer: 'php'", () => {
  it('stores PHP text, reads it back on the next request', async () => {
    const client = app.client();
    await client.post('/increment');
    await client.post('/set?key=name&value=%C3%A9l%C3%A8ve');
    const { body } = await client.post('/increment');
    assert.deepEqual(body.data, { counter: 2, name: 'élève' });
    const id = client.sessionId;
    assert.ok(id);
    const row = await sql.mustRow(table, id);
    assert.equal(
      row.sess_data,
      'cookie|a:3:{s:14:"originalMaxAge";N;s:8:"httpOnly";b:1;s:4:"path";s:1:"/";}counter|i:2;name|s:7:"élève";',
    );
    assert.deepEqual((await client.get('/session')).body.data, { counter: 2, name: 'élève' });
    assert.deepEqual(app.errors, []);
  });

  it('what it stored reads in PHP', async () => {
    const client = app.client();
    await client.post('/increment');
    const id = client.sessionId;
    assert.ok(id);
    const text = (await sql.mustRow(table, id)).sess_data ?? '';
    const [result] = await decodeInPhp([{ handler: 'php', text, set: 'php', name: 'empty' }]);
    assert.equal(result?.read, true);
    assert.match(result?.decoded ?? '', /\[counter\] => 1/);
    assert.match(result?.decoded ?? '', /\[httpOnly\] => 1/);
  });
});
