/**
 * A store configured with one of PHP's session formats (`serializer: 'php'`) keeps PHP's
 * text in sess_data on a real PostgreSQL: PHP reads what Node stored, Node reads what PHP
 * wrote and stores it back unchanged; NUL, which PostgreSQL text cannot hold, is refused.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { SessionPgsqlError, setPhpClass } from '../../src/index.js';
import {
  type Data,
  newId,
  quoted,
  storedKey,
  storedRow,
  uniqueTable,
  useTestDatabase,
} from '../core/fixtures.js';
import { runPhp } from '../helpers/php.js';
import { type Encoded, encodeInPhp, type Handler } from './fixtures.js';

const db = useTestDatabase();

let encoded: Encoded;
before(async () => {
  encoded = await encodeInPhp();
});

function open(serializer: Handler) {
  const table = uniqueTable('php');
  return { table, store: db.stores.open<Data>({ db: db.url, table, gcInterval: 0, serializer }) };
}

/** PHP reads a row's sess_data from PostgreSQL (pgsql extension) and decodes it with the handler. */
async function readInPhp(table: string, id: string, handler: Handler): Promise<unknown> {
  const code = `
    $db = pg_connect(getenv('PG_URL'));
    $result = pg_query_params($db, 'SELECT sess_data FROM ' . getenv('PG_TABLE') . ' WHERE sess_id = $1', [getenv('PG_KEY')]);
    $text = pg_fetch_result($result, 0, 0);
    ini_set('session.use_cookies', '0');
    ini_set('session.cache_limiter', '');
    ini_set('session.save_path', sys_get_temp_dir());
    ini_set('session.serialize_handler', getenv('PG_HANDLER'));
    session_start();
    $ok = session_decode($text);
    $session = $_SESSION;
    session_abort();
    echo json_encode(['ok' => $ok, 'session' => $session, 'ratio' => is_float($session['ratio'] ?? null)]);`;
  const { stdout } = await runPhp(
    { code },
    {
      env: { PG_URL: db.url, PG_TABLE: quoted(table), PG_KEY: storedKey(id), PG_HANDLER: handler },
    },
  );
  return JSON.parse(stdout);
}

describe("serializer: 'php' and the other PHP formats in a store", () => {
  it("'php' stores PHP's text in sess_data and reads it back", async () => {
    const { store, table } = open('php');
    const id = newId();
    const data = { user: { name: 'ann', roles: ['admin'] }, visits: 3, note: 'é 🔑' };
    await store.write(id, data);
    const row = await storedRow(db.admin, table, storedKey(id));
    assert.equal(
      row?.sess_data,
      'user|a:2:{s:4:"name";s:3:"ann";s:5:"roles";a:1:{i:0;s:5:"admin";}}visits|i:3;note|s:7:"é 🔑";',
    );
    assert.deepEqual((await store.read(id))?.data, data);
  });

  for (const handler of ['php', 'php_serialize', 'php_binary'] as const) {
    it(`${handler}: PHP reads what the store wrote, from PostgreSQL`, async () => {
      const { store, table } = open(handler);
      const id = newId();
      await store.write(id, {
        user: { name: 'ann' },
        visits: 3,
        object: setPhpClass({ a: 1 }, 'stdClass'),
      });
      assert.deepEqual(await readInPhp(table, id, handler), {
        ok: true,
        session: { user: { name: 'ann' }, visits: 3, object: { a: 1 } },
        ratio: false,
      });
    });

    it(`${handler}: a session PHP wrote is read, and written back byte for byte`, async () => {
      const { store, table } = open(handler);
      for (const name of ['user', 'floats', 'arrays', 'enums', 'references']) {
        const text = encoded[handler][name] ?? '';
        const id = newId();
        await store.write(id, {});
        await db.admin.query(`UPDATE ${quoted(table)} SET sess_data = $1 WHERE sess_id = $2`, [
          text,
          storedKey(id),
        ]);
        const loaded = await store.read(id);
        assert.ok(loaded);
        await store.write(id, loaded.data ?? {}, { state: loaded.state });
        assert.equal((await storedRow(db.admin, table, storedKey(id)))?.sess_data, text, name);
      }
      const id = newId();
      await store.write(id, {});
      await db.admin.query(`UPDATE ${quoted(table)} SET sess_data = $1 WHERE sess_id = $2`, [
        encoded[handler].user,
        storedKey(id),
      ]);
      const loaded = await store.read(id);
      assert.equal((loaded?.data?.user as { name?: string } | undefined)?.name, 'ann');
      assert.deepEqual(await readInPhp(table, id, handler), {
        ok: true,
        session: { user: { name: 'ann', roles: ['admin', 'dev'] }, counter: 3, ratio: 1 },
        ratio: true,
      });
    });
  }

  it('a stored text the format cannot read: SPG_PARSE_FAILED with the position, row untouched', async () => {
    const { store, table } = open('php');
    const id = newId();
    await store.write(id, {});
    await db.admin.query(
      `UPDATE ${quoted(table)} SET sess_data = 'k|s:99:"short";' WHERE sess_id = $1`,
      [storedKey(id)],
    );
    await assert.rejects(store.read(id), (error: unknown) => {
      assert.ok(error instanceof SessionPgsqlError);
      assert.equal(error.code, 'SPG_PARSE_FAILED');
      assert.match(
        error.message,
        /php session data: the string length 99 is larger than the whole data \(15 bytes\) at byte 4/,
      );
      return true;
    });
    assert.equal((await storedRow(db.admin, table, storedKey(id)))?.sess_data, 'k|s:99:"short";');
  });

  it('NUL (a string with one, a protected or private property): SPG_SERIALIZE_FAILED, nothing stored', async () => {
    const { store, table } = open('php');
    const id = newId();
    await store.write(id, { kept: true });
    for (const data of [
      { text: 'a\0b' },
      { user: setPhpClass({ '\0*\0role': 'admin' }, 'User') },
      { '\0name': 1 },
    ]) {
      await assert.rejects(store.write(id, data), (error: unknown) => {
        assert.ok(error instanceof SessionPgsqlError);
        assert.equal(error.code, 'SPG_SERIALIZE_FAILED');
        assert.match(error.message, /holds a NUL character, which PostgreSQL text cannot store/);
        return true;
      });
    }
    assert.equal((await storedRow(db.admin, table, storedKey(id)))?.sess_data, 'kept|b:1;');
  });
});
