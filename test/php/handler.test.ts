/**
 * The PHP handler in real PHP 8 (one process per request, the real session module), checked
 * on the rows PostgreSQL holds: session_pgsql's columns with the Node store's semantics
 * (expiry and counter by the database, hashed ids, metadata), the id rules, and failures
 * that are typed errors which lose nothing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  databaseNow,
  expireInDatabase,
  quoted,
  storedKey,
  storedRow,
  uniqueTable,
  useTestDatabase,
} from '../core/fixtures.js';
import { assertNear } from '../helpers/express-app.js';
import { phpOk, phpRequest } from '../helpers/php-session.js';

const db = useTestDatabase();
const INI = { 'session.gc_maxlifetime': 600 };
const CLIENT = { REMOTE_ADDR: '203.0.113.7' };
/** PHP's E_USER_ERROR, as session_pgsql_add_error() takes it. */
const E_USER_ERROR = 256;

function options(table: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { db: db.url, table, gcInterval: 0, ...extra };
}

async function mustRow(table: string, id: string, hashed = true) {
  const row = await storedRow(db.admin, table, hashed ? storedKey(id) : id);
  assert.ok(row, `a row for session ${id}`);
  return row;
}

describe('a PHP session in PostgreSQL', () => {
  it('is stored under the SHA-256 of its id, with its data as PHP encodes it and the metadata by the database', async () => {
    const table = uniqueTable('php');
    const reply = await phpOk({
      options: options(table),
      ini: INI,
      server: CLIENT,
      steps: [['start'], ['set', 'user', 'alice'], ['set', 'n', 1]],
    });
    assert.match(reply.id, /^[A-Za-z0-9_-]{32}$/, 'a new id as express-session makes them');
    const row = await mustRow(table, reply.id);
    const now = await databaseNow(db.admin);
    assert.equal(row.sess_id, storedKey(reply.id));
    assert.equal(row.sess_name, 'PHPSESSID');
    assert.equal(row.sess_data, 'user|s:5:"alice";n|i:1;');
    assertNear(row.sess_created, now, 3, 'created, by the database clock');
    assert.equal(row.sess_modified, row.sess_created);
    assert.equal(row.sess_expire, row.sess_modified + 600, 'expires session.gc_maxlifetime later');
    assert.equal(row.sess_counter, 1);
    assert.deepEqual([row.sess_error, row.sess_warning, row.sess_notice], [0, 0, 0]);
    assert.equal(row.sess_addr_created, '203.0.113.7');
    assert.equal(row.sess_addr_modified, '203.0.113.7');
    const { rows } = await db.admin.query(
      `SELECT count(*)::int AS n FROM ${quoted(table)} WHERE sess_id = $1`,
      [reply.id],
    );
    assert.equal(rows[0].n, 0, 'the id itself is not in the table');
  });

  it('is read back; every request counts an access in SQL, a change keeps the creating address', async () => {
    const table = uniqueTable('php');
    const { id } = await phpOk({
      options: options(table),
      ini: INI,
      server: CLIENT,
      steps: [['start'], ['set', 'user', 'alice']],
    });
    const second = await phpOk({
      options: options(table),
      ini: INI,
      id,
      server: { REMOTE_ADDR: '198.51.100.2' },
      steps: [['start'], ['info']],
    });
    assert.equal(second.id, id);
    assert.deepEqual(second.data, { user: 'alice' });
    const info = second.results[1] as Record<string, unknown>;
    assert.equal(info.accesses, 1);
    assert.equal(info.createdAddress, '203.0.113.7');
    let row = await mustRow(table, id);
    assert.equal(row.sess_counter, 2, 'the unchanged session was touched (lazy_write)');
    assert.equal(row.sess_addr_modified, '198.51.100.2');
    assert.equal(row.sess_data, 'user|s:5:"alice";');
    await phpOk({
      options: options(table),
      ini: INI,
      id,
      server: { REMOTE_ADDR: '198.51.100.3' },
      steps: [['start'], ['set', 'cart', 3]],
    });
    row = await mustRow(table, id);
    assert.equal(row.sess_counter, 3);
    assert.equal(row.sess_data, 'user|s:5:"alice";cart|i:3;');
    assert.equal(row.sess_addr_created, '203.0.113.7');
    assert.equal(row.sess_addr_modified, '198.51.100.3');
  });

  it('with hashIds false is stored under its id, and sess_name is the `name` option when given', async () => {
    const table = uniqueTable('php');
    const { id } = await phpOk({
      options: options(table, { hashIds: false, name: 'connect.sid' }),
      steps: [['start'], ['set', 'a', 1]],
    });
    const row = await mustRow(table, id, false);
    assert.equal(row.sess_id, id);
    assert.equal(row.sess_name, 'connect.sid');
  });

  it('writes no row for a new session that holds nothing', async () => {
    const table = uniqueTable('php');
    const { id } = await phpOk({ options: options(table), steps: [['start']] });
    assert.equal(await storedRow(db.admin, table, storedKey(id)), undefined);
  });

  it("keeps the custom field and the error counters (session_pgsql's functions), and shows them in session_pgsql_info()", async () => {
    const table = uniqueTable('php');
    const first = await phpOk({
      options: options(table),
      steps: [
        ['start'],
        ['set', 'user', 'alice'],
        ['setField', 'plan=pro'],
        ['addError', 'warning', 'payment retried'],
        ['addError', 'notice'],
        ['getError', true],
        ['getError'],
      ],
    });
    assert.deepEqual(first.results[5], {
      error: 0,
      warning: 1,
      notice: 1,
      message: 'payment retried',
    });
    assert.deepEqual(first.results[6], { error: 0, warning: 1, notice: 1 });
    let row = await mustRow(table, first.id);
    assert.equal(row.sess_custom, 'plan=pro');
    assert.deepEqual([row.sess_error, row.sess_warning, row.sess_notice], [0, 1, 1]);
    assert.equal(row.sess_err_message, 'payment retried');
    // Metadata alone forces a write, even with the short circuit; the data stays as it was.
    const second = await phpOk({
      options: options(table, { shortCircuit: true }),
      id: first.id,
      steps: [
        ['start'],
        ['getField'],
        ['addError', E_USER_ERROR, 'declined'],
        ['setField', null],
        ['info'],
      ],
    });
    assert.equal(second.results[1], 'plan=pro');
    const info = second.results[4] as Record<string, unknown>;
    assert.equal(info.errors, 1);
    assert.equal(info.errorMessage, 'declined');
    assert.equal(info.custom, null);
    row = await mustRow(table, first.id);
    assert.equal(row.sess_custom, null, 'set_field(null) clears it');
    assert.deepEqual([row.sess_error, row.sess_warning, row.sess_notice], [1, 1, 1]);
    assert.equal(row.sess_err_message, 'declined');
    assert.equal(row.sess_counter, 2);
    assert.equal(row.sess_data, 'user|s:5:"alice";');
    const bad = await phpRequest({
      options: options(table),
      id: first.id,
      steps: [['start'], ['addError', 'fatal']],
    });
    assert.equal(bad.error?.code, 'SPG_INVALID_ERROR_LEVEL');
  });

  it('stores metadata set on a new session even when it holds no data', async () => {
    const table = uniqueTable('php');
    const { id } = await phpOk({ options: options(table), steps: [['start'], ['setField', 'x']] });
    const row = await mustRow(table, id);
    assert.equal(row.sess_custom, 'x');
    assert.equal(row.sess_data, '');
  });

  it('expires by the database clock: an expired session is a new one (a new id), its row untouched', async () => {
    const table = uniqueTable('php');
    const { id } = await phpOk({
      options: options(table),
      steps: [['start'], ['set', 'user', 'alice']],
    });
    await expireInDatabase(db.admin, table, storedKey(id), { secondsAgo: 5 });
    const after = await phpOk({ options: options(table), id, steps: [['start']] });
    assert.notEqual(after.id, id, 'strict mode: the expired id is not adopted');
    assert.deepEqual(after.data, {});
    const row = await mustRow(table, id);
    assert.equal(row.sess_data, 'user|s:5:"alice";', 'left for garbage collection');
  });

  it('with keepExpired keeps the id and the metadata of an expired session, not its data', async () => {
    const table = uniqueTable('php');
    const keep = options(table, { keepExpired: true });
    const { id } = await phpOk({
      options: keep,
      server: CLIENT,
      steps: [['start'], ['set', 'user', 'alice'], ['setField', 'f']],
    });
    await expireInDatabase(db.admin, table, storedKey(id), {
      secondsAgo: 5,
      createdSecondsAgo: 100,
    });
    const before = await mustRow(table, id);
    const after = await phpOk({
      options: keep,
      id,
      server: { REMOTE_ADDR: '198.51.100.9' },
      steps: [['start'], ['set', 'again', true]],
    });
    assert.equal(after.id, id);
    assert.deepEqual(after.data, { again: true });
    const row = await mustRow(table, id);
    assert.equal(row.sess_data, 'again|b:1;');
    assert.equal(row.sess_created, before.sess_created, 'created kept');
    assert.equal(row.sess_addr_created, '203.0.113.7');
    assert.equal(row.sess_counter, 2, 'the counter goes on');
    assert.equal(row.sess_custom, 'f');
  });

  it('is destroyed by session_destroy(); session_regenerate_id(true) moves it to a new id', async () => {
    const table = uniqueTable('php');
    const { id } = await phpOk({
      options: options(table),
      steps: [['start'], ['set', 'user', 'alice']],
    });
    const regenerated = await phpOk({
      options: options(table),
      id,
      steps: [['start'], ['regenerate', true], ['set', 'step', 2]],
    });
    assert.notEqual(regenerated.id, id);
    assert.equal(await storedRow(db.admin, table, storedKey(id)), undefined, 'the old id is gone');
    assert.equal((await mustRow(table, regenerated.id)).sess_data, 'user|s:5:"alice";step|i:2;');
    await phpOk({ options: options(table), id: regenerated.id, steps: [['start'], ['destroy']] });
    assert.equal(await storedRow(db.admin, table, storedKey(regenerated.id)), undefined);
  });

  it('resumes a session the Node store wrote under an express-session id (with _ and -), PHP format', async () => {
    const table = uniqueTable('php');
    const node = db.stores.open({ db: db.url, table, gcInterval: 0, serializer: 'php' });
    const id = `Node_made-id_${'x'.repeat(19)}`;
    await node.write(id, { user: 'alice', roles: ['admin'] });
    const reply = await phpOk({
      options: options(table),
      id,
      steps: [['start'], ['set', 'seen', 'php']],
    });
    assert.equal(reply.id, id, 'adopted: the session exists');
    assert.deepEqual(reply.data, { user: 'alice', roles: ['admin'], seen: 'php' });
    assert.deepEqual((await node.read(id))?.data, { user: 'alice', roles: ['admin'], seen: 'php' });
  });

  it('never adopts an id nobody issued, nor lets a malformed one reach SQL', async () => {
    const table = uniqueTable('php');
    await phpOk({ options: options(table), steps: [['start'], ['set', 'a', 1]] }); // creates the table
    for (const id of [
      'unknown-but-well-formed-id-12345',
      "x'; DROP TABLE php_session; --",
      'short',
      'a'.repeat(300),
    ]) {
      const reply = await phpOk({
        options: options(table),
        id,
        steps: [['start'], ['set', 'mine', true]],
      });
      assert.notEqual(reply.id, id);
      assert.match(reply.id, /^[A-Za-z0-9_-]{32}$/);
    }
    const { rows } = await db.admin.query(`SELECT sess_id FROM ${quoted(table)}`);
    assert.equal(rows.length, 5, 'one row per new session, none for the given ids');
  });

  it('refuses to run without session.use_strict_mode (an id from the cookie would be adopted)', async () => {
    const table = uniqueTable('php');
    const reply = await phpRequest({
      options: options(table),
      steps: [['ini', 'session.use_strict_mode', '0'], ['start']],
    });
    assert.equal(reply.error?.code, 'SPG_INVALID_OPTION');
    assert.match(reply.error?.message ?? '', /use_strict_mode/);
  });

  it('refuses a session larger than maxSessionBytes, or data PostgreSQL text cannot hold; the stored one stays', async () => {
    const table = uniqueTable('php');
    const small = options(table, { maxSessionBytes: 100 });
    const { id } = await phpOk({ options: small, steps: [['start'], ['set', 'a', 1]] });
    const big = await phpRequest({
      options: small,
      id,
      steps: [['start'], ['set', 'big', 'x'.repeat(200)]],
    });
    assert.equal(big.error?.code, 'SPG_SESSION_TOO_LARGE');
    const nul = await phpRequest({
      options: small,
      id,
      steps: [['start'], ['set', 'nul', 'a\u0000b']],
    });
    assert.equal(nul.error?.code, 'SPG_SERIALIZE_FAILED');
    assert.equal((await mustRow(table, id)).sess_data, 'a|i:1;');
  });

  it('leaves a session it cannot decode (another format) untouched instead of destroying it', async () => {
    const table = uniqueTable('php');
    const { id } = await phpOk({ options: options(table), steps: [['start'], ['set', 'a', 1]] });
    await db.admin.query(`UPDATE ${quoted(table)} SET sess_data = $2 WHERE sess_id = $1`, [
      storedKey(id),
      '{"cookie":{},"a":1}',
    ]);
    const reply = await phpRequest({ options: options(table), id, steps: [['start']] });
    assert.equal(reply.error?.code, 'SPG_PARSE_FAILED');
    assert.equal((await mustRow(table, id)).sess_data, '{"cookie":{},"a":1}');
  });

  it('fails with a typed error, never an empty session, when the database cannot be reached or refuses', async () => {
    const table = uniqueTable('php');
    const down = await phpRequest({
      options: { db: 'host=127.0.0.1 port=1 dbname=x user=x connect_timeout=2', table },
      id: 'a-well-formed-id-of-32-characters',
      steps: [['start'], ['set', 'reached', true]],
    });
    assert.equal(down.error?.code, 'SPG_DB_UNREACHABLE');
    assert.deepEqual(down.results, [], 'session_start() threw: no empty session');
    const url = new URL(db.url);
    url.password = 'wrong';
    const refused = await phpRequest({
      options: { db: url.toString(), table },
      id: 'a-well-formed-id-of-32-characters',
      steps: [['start']],
    });
    assert.equal(refused.error?.code, 'SPG_DB_QUERY_FAILED');
    assert.doesNotMatch(
      `${refused.error?.message}`,
      new RegExp(new URL(db.url).password),
      'no password in messages',
    );
  });

  it('fails SPG_SESSION_LOCKED, writing nothing, while another transaction holds the row locked', async () => {
    const table = uniqueTable('php');
    const quick = options(table, { queryTimeoutMillis: 1000 });
    const { id } = await phpOk({ options: quick, steps: [['start'], ['set', 'a', 1]] });
    const client = await db.admin.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT 1 FROM ${quoted(table)} WHERE sess_id = $1 FOR UPDATE`, [
        storedKey(id),
      ]);
      const reply = await phpRequest({ options: quick, id, steps: [['start'], ['set', 'a', 2]] });
      assert.equal(reply.error?.code, 'SPG_SESSION_LOCKED');
      assert.equal(reply.error?.sqlState, '55P03');
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
    assert.equal((await mustRow(table, id)).sess_data, 'a|i:1;');
  });

  it('creates its table (and expiry index) where missing, in a schema, with any name; or fails typed with createTable false', async () => {
    await db.admin.query('CREATE SCHEMA IF NOT EXISTS "php.schema"');
    const table = `"php.schema"."Weird ""Name"" ${uniqueTable('t')}"`;
    const { id } = await phpOk({ options: options(table), steps: [['start'], ['set', 'a', 1]] });
    const { rows } = await db.admin.query(
      `SELECT indexname FROM pg_indexes WHERE schemaname = 'php.schema' AND indexdef LIKE '%(sess_expire)%'`,
    );
    assert.equal(rows.length >= 1, true, 'the expiry index');
    const stored = await db.admin.query(`SELECT sess_data FROM ${table} WHERE sess_id = $1`, [
      storedKey(id),
    ]);
    assert.equal(stored.rows[0]?.sess_data, 'a|i:1;');
    const missing = await phpRequest({
      options: options(uniqueTable('missing'), { createTable: false }),
      id: 'a-well-formed-id-of-32-characters',
      steps: [['start']],
    });
    assert.equal(missing.error?.code, 'SPG_TABLE_SETUP_FAILED');
  });

  it('validates its options: an unknown name or a bad value is SPG_INVALID_OPTION naming it', async () => {
    for (const [bad, name] of [
      [{ sessionTTL: 5 }, 'sessionTTL'],
      [{ gcInterval: 1.5 }, 'gcInterval'],
      [{ touchAfterFraction: 1 }, 'touchAfterFraction'],
      [{ table: 'a.b.c' }, 'table'],
      [{ db: [] }, 'db'],
    ] as const) {
      const reply = await phpRequest({ options: { db: db.url, ...bad }, steps: [['start']] });
      assert.equal(reply.error?.code, 'SPG_INVALID_OPTION', JSON.stringify(bad));
      assert.match(reply.error?.message ?? '', new RegExp(`"${name}"`));
    }
  });

  it('reports its servers in session_pgsql_status(), password hidden', async () => {
    const table = uniqueTable('php');
    const reply = await phpOk({
      options: options(table),
      steps: [['start'], ['set', 'a', 1], ['status']],
    });
    const status = reply.results[2] as {
      servers: { connection: string; up: boolean; sessions: number }[];
      serverCount: number;
    };
    assert.equal(status.serverCount, 1);
    assert.equal(status.servers[0]?.up, true);
    assert.equal(status.servers[0]?.sessions, 0, 'not written yet');
    assert.match(status.servers[0]?.connection ?? '', /:\*\*\*@/);
    assert.doesNotMatch(JSON.stringify(reply), new RegExp(new URL(db.url).password));
  });
});
