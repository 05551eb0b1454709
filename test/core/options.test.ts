import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inspect } from 'node:util';
import pg from 'pg';
import {
  jsonSerializer,
  SessionPgsql,
  SessionPgsqlError,
  type SessionPgsqlOptions,
} from '../../src/index.js';
import {
  type Data,
  newId,
  quoted,
  storedKey,
  storedRow,
  storeTracker,
  uniqueTable,
  useSharedDatabase,
} from './fixtures.js';

let url: string;
let admin: pg.Pool;
const stores = storeTracker();

useSharedDatabase(stores, (sharedUrl, pool) => {
  url = sharedUrl;
  admin = pool;
});

/** A store on its own table of the test database. */
function open(options: SessionPgsqlOptions<Data> = {}): {
  store: SessionPgsql<Data>;
  table: string;
} {
  const table = options.table ?? uniqueTable();
  return { store: stores.open({ db: url, gcInterval: 0, ...options, table }), table };
}

/** Constructs a store from options the types would not allow. */
function construct(options: unknown): SessionPgsql<Data> {
  return new SessionPgsql<Data>(options as SessionPgsqlOptions<Data>);
}

describe('defaults', () => {
  it('are complete and frozen in store.options', async () => {
    const store = construct({ db: 'postgres://nobody@127.0.0.1:1/nothing' });
    const o = store.options;
    assert.equal(Object.isFrozen(o), true);
    assert.equal(Object.isFrozen(o.db), true);
    assert.equal(Object.isFrozen(o.table), true);
    assert.deepEqual(o.db, {
      kind: 'servers',
      servers: [{ kind: 'conninfo', connection: 'postgres://nobody@127.0.0.1:1/nothing' }],
    });
    assert.equal(o.table.name, 'php_session');
    assert.equal(o.table.schema, undefined);
    assert.equal(o.table.quoted, '"php_session"');
    assert.equal(o.createTable, true);
    assert.equal(o.gcIntervalSeconds, 3600);
    assert.equal(o.gcBatchSize, 1000);
    assert.equal(o.shortCircuit, false);
    assert.equal(o.touchAfterFraction, 0.1);
    assert.equal(o.keepExpired, false);
    assert.equal(o.ttlSeconds, 1440);
    assert.equal(o.serializer, jsonSerializer);
    assert.equal(o.name, 'connect.sid');
    assert.equal(o.idPattern.source, '^[A-Za-z0-9_,-]{16,256}$');
    assert.equal(o.hashIds, true);
    assert.equal(o.maxSessionBytes, 1_048_576);
    assert.equal(o.poolSize, 10);
    assert.equal(o.batchMaxSessions, 500);
    assert.equal(o.connectTimeoutMillis, 5000);
    assert.equal(o.queryTimeoutMillis, 10_000);
    assert.equal(o.preparedStatements, true);
    assert.throws(() => {
      (o as { ttlSeconds: number }).ttlSeconds = 5;
    }, TypeError);
    assert.equal(o.ttlSeconds, 1440);
    await store.close();
  });

  it('keep no connection password: store.options shows the connection with it hidden', async () => {
    const secret = 'pa55-w0rd-in-options';
    const store = construct({
      db: [`postgres://web:${secret}@127.0.0.1:1/app`, `host=127.0.0.1 port=1 password=${secret}`],
    });
    const shown = `${JSON.stringify(store.options)} ${inspect(store, { depth: 10 })}`;
    assert.equal(shown.includes(secret), false);
    assert.deepEqual(store.options.db, {
      kind: 'servers',
      servers: [
        { kind: 'conninfo', connection: 'postgres://web:***@127.0.0.1:1/app' },
        { kind: 'conninfo', connection: 'host=127.0.0.1 port=1 password=***' },
      ],
    });
    await store.close();
  });

  it('without db, an embedded database in .session-pgsql (nothing opened before use)', async () => {
    const store = construct({});
    assert.deepEqual(store.options.db, { kind: 'embedded', dir: '.session-pgsql' });
    await store.close();
  });

  it('the options object given is not kept: changing it later changes nothing', async () => {
    const given = { db: url, ttl: 100 };
    const store = construct(given);
    given.ttl = 5;
    assert.equal(store.options.ttlSeconds, 100);
    await store.close();
  });
});

describe('invalid options', () => {
  const invalid: Record<string, readonly unknown[]> = {
    db: [42, '', '   ', null, {}, { query: () => {} }, 'host=x bogus=1', 'port=http host=x', 'x'],
    table: ['', 'a.b.c', 'x'.repeat(64), 'a\0b', 42, '.t', 't.'],
    createTable: ['yes', 1, null],
    gcInterval: [1.5, Number.NaN, Number.POSITIVE_INFINITY, '60', null, 3.2e8],
    gcBatchSize: [0, -1, 2.5, '10', 3e9],
    shortCircuit: ['true', 0],
    touchAfterFraction: [1, -0.1, Number.NaN, '0.5'],
    keepExpired: [1, 'false'],
    ttl: [0, -5, 1.5, '60', 1e19],
    serializer: [{}, { parse: JSON.parse }, { parse: 1, stringify: 2 }, 'JSON', 'yaml', null],
    name: ['', 'a\0b', 5],
    idPattern: ['^[a-z]+$', {}],
    hashIds: ['no', 0],
    maxSessionBytes: [0, 1.5, -1],
    poolSize: [0, 2.5],
    connectTimeoutMillis: [0, -1, 1.5],
    queryTimeoutMillis: [0, Number.NaN],
    preparedStatements: ['false', 1],
    batchMaxSessions: [0, -1, 2.5, '500'],
    healthCheckMillis: [5, 2 ** 31, 1.5],
    gcCheckMillis: [0, 2 ** 31, '1000'],
    cacheHeartbeatMillis: [0, 9, 2 ** 31],
    cacheMaxEntries: [0, 1.5],
  };

  for (const [option, values] of Object.entries(invalid)) {
    for (const value of values) {
      const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
      it(`${option}: ${shown.slice(0, 40)} is refused, naming the option`, () => {
        // a valid db unless db is under test, so that only the option under test can fail
        const options = option === 'db' ? { db: value } : { db: url, [option]: value };
        assert.throws(
          () => construct(options),
          (error: unknown) => {
            assert.ok(error instanceof SessionPgsqlError);
            assert.equal(error.code, 'SPG_INVALID_OPTION');
            assert.match(error.message, new RegExp(`\\b${option}\\b`));
            return true;
          },
        );
      });
    }
  }

  it('embeddedDir: an empty folder name is refused when the embedded database is used', () => {
    assert.throws(() => construct({ embeddedDir: '' }), {
      code: 'SPG_INVALID_OPTION',
      message: /embeddedDir/,
    });
  });

  it('an unknown option is refused, naming it', () => {
    assert.throws(() => construct({ db: url, gcProbability: 1 }), {
      name: 'SessionPgsqlError',
      code: 'SPG_INVALID_OPTION',
      message: /gcProbability/,
    });
    assert.throws(() => construct({ db: url, gc_interval: 60 }), {
      code: 'SPG_INVALID_OPTION',
      message: /gc_interval/,
    });
  });

  it('options that are not an object are refused', () => {
    assert.throws(() => construct(null), { code: 'SPG_INVALID_OPTION' });
    assert.throws(() => construct('postgres://x'), { code: 'SPG_INVALID_OPTION' });
  });
});

describe('db', () => {
  it('a libpq key=value string, quoted values included', async () => {
    const u = new URL(url);
    const appName = `spg kv 'quoted' \\ ${process.pid}`;
    const libpqQuote = (value: string) =>
      `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
    const conninfo = [
      `host=${u.hostname}`,
      `port = ${u.port}`,
      `dbname=${libpqQuote(decodeURIComponent(u.pathname.slice(1)))}`,
      `user='${decodeURIComponent(u.username)}'`,
      `password=${libpqQuote(decodeURIComponent(u.password))}`,
      `application_name=${libpqQuote(appName)}`,
    ].join(' ');
    const { store } = open({ db: conninfo });
    const id = newId();
    await store.write(id, { via: 'conninfo' });
    assert.deepEqual((await store.read(id))?.data, { via: 'conninfo' });
    // the quoted application_name arrived whole, unescaped, on the store's connections
    const { rows } = await admin.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
      [appName],
    );
    assert.ok((rows[0]?.n ?? 0) >= 1, 'the store connected with the quoted application_name');
    // the password is not shown by status()
    const status = await store.status();
    assert.equal(status.servers[0]?.connection.includes(decodeURIComponent(u.password)), false);
    assert.match(status.servers[0]?.connection ?? '', /password=\*\*\*/);
  });

  it('a postgres:// URL, its password hidden in status()', async () => {
    const { store } = open({ db: url });
    const id = newId();
    await store.write(id, { via: 'url' });
    assert.deepEqual((await store.read(id))?.data, { via: 'url' });
    const status = await store.status();
    assert.equal(status.servers[0]?.up, true);
    const password = decodeURIComponent(new URL(url).password);
    assert.equal(status.servers[0]?.connection.includes(password), false);
    assert.match(status.servers[0]?.connection ?? '', /\*\*\*/);
  });

  it('an existing pg Pool, which close() does not end', async () => {
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    const store = new SessionPgsql<Data>({ db: pool, table: uniqueTable(), gcInterval: 0 });
    const id = newId();
    await store.write(id, { via: 'pool' });
    assert.deepEqual((await store.read(id))?.data, { via: 'pool' });
    assert.match((await store.status()).servers[0]?.connection ?? '', /pg Pool/);
    await store.close();
    assert.equal(pool.ended, false);
    const { rows } = await pool.query<{ one: number }>('SELECT 1 AS one');
    assert.deepEqual(rows, [{ one: 1 }]);
    await pool.end();
  });
});

describe('table', () => {
  it('schema.table is created in that schema', async () => {
    const schema = `app_${process.pid}`;
    await admin.query(`CREATE SCHEMA ${quoted(schema)}`);
    const table = `${schema}.sessions`;
    const { store } = open({ table });
    assert.equal(store.options.table.quoted, `"${schema}"."sessions"`);
    const id = newId();
    await store.write(id, { in: 'schema' });
    assert.deepEqual((await store.read(id))?.data, { in: 'schema' });
    const { rows } = await admin.query<{ schema: string }>(
      "SELECT table_schema AS schema FROM information_schema.tables WHERE table_name = 'sessions'",
    );
    assert.deepEqual(rows, [{ schema }]);
    assert.ok(await storedRow(admin, table, storedKey(id)));
  });

  it('a hostile name is quoted: `we"ird.ta;ble` and `s"; DROP TABLE victim; --`', async () => {
    await admin.query('CREATE TABLE victim (id int)');
    await admin.query('CREATE SCHEMA "we""ird"');
    for (const table of ['we"ird.ta;ble', 's"; DROP TABLE victim; --']) {
      const { store } = open({ table });
      const id = newId();
      await store.write(id, { table });
      assert.deepEqual((await store.read(id))?.data, { table });
      await store.touch(id);
      assert.equal(await store.length(), 1);
      await store.destroy(id);
      assert.equal(await store.read(id), undefined);
    }
    const { rows } = await admin.query<{ name: string }>(
      `SELECT n.nspname || '.' || c.relname AS name FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE c.relkind = 'r' AND (c.relname IN ('ta;ble', 's"; DROP TABLE victim; --', 'victim'))
       ORDER BY 1`,
    );
    assert.deepEqual(
      rows.map((r) => r.name),
      ['public.s"; DROP TABLE victim; --', 'public.victim', 'we"ird.ta;ble'],
    );
  });

  it('createTable: false with a missing table fails with SPG_TABLE_SETUP_FAILED and creates nothing', async () => {
    const { store, table } = open({ createTable: false });
    await assert.rejects(store.write(newId(), { a: 1 }), {
      code: 'SPG_TABLE_SETUP_FAILED',
      message: new RegExp(table),
    });
    await assert.rejects(store.read(newId()), { code: 'SPG_TABLE_SETUP_FAILED' });
    const { rows } = await admin.query('SELECT to_regclass($1) AS t', [quoted(table)]);
    assert.deepEqual(rows, [{ t: null }]);
  });

  it('createTable: false works once the table exists (setup is retried, not cached as failed)', async () => {
    const table = uniqueTable();
    const { store } = open({ table, createTable: false });
    await assert.rejects(store.read(newId()), { code: 'SPG_TABLE_SETUP_FAILED' });
    const { store: creator } = open({ table });
    await creator.length();
    const id = newId();
    await store.write(id, { late: true });
    assert.deepEqual((await store.read(id))?.data, { late: true });
  });
});

describe('serializer', () => {
  it('a custom serializer decides what sess_data holds', async () => {
    const serializer = {
      stringify: (data: Data) => `v1:${Buffer.from(JSON.stringify(data)).toString('base64')}`,
      parse: (text: string) => {
        assert.match(text, /^v1:/);
        return JSON.parse(Buffer.from(text.slice(3), 'base64').toString()) as Data;
      },
    };
    const { store, table } = open({ serializer });
    const id = newId();
    await store.write(id, { user: 'ann' });
    const row = await storedRow(admin, table, storedKey(id));
    assert.equal(row?.sess_data, `v1:${Buffer.from('{"user":"ann"}').toString('base64')}`);
    assert.deepEqual((await store.read(id))?.data, { user: 'ann' });
  });

  it('a throwing serializer: SPG_SERIALIZE_FAILED on write, SPG_PARSE_FAILED on read, row untouched', async () => {
    const table = uniqueTable();
    const { store: good } = open({ table });
    const id = newId();
    await good.write(id, { kept: true });
    const { store: bad } = open({
      table,
      serializer: {
        stringify: () => {
          throw new Error('cannot stringify');
        },
        parse: () => {
          throw new Error('cannot parse');
        },
      },
    });
    const coded = (code: string, causeMessage: string) => (error: unknown) => {
      assert.ok(error instanceof SessionPgsqlError);
      assert.equal(error.code, code);
      assert.ok(error.cause instanceof Error);
      assert.equal(error.cause.message, causeMessage);
      return true;
    };
    await assert.rejects(
      bad.write(id, { lost: true }),
      coded('SPG_SERIALIZE_FAILED', 'cannot stringify'),
    );
    await assert.rejects(bad.read(id), coded('SPG_PARSE_FAILED', 'cannot parse'));
    assert.deepEqual((await good.read(id))?.data, { kept: true });
  });
});

describe('per-session options', () => {
  it('name is stored in sess_name', async () => {
    const { store, table } = open({ name: 'PHPSESSID' });
    const id = newId();
    await store.write(id, {});
    assert.equal((await storedRow(admin, table, storedKey(id)))?.sess_name, 'PHPSESSID');
    const { store: other } = open({ table });
    const id2 = newId();
    await other.write(id2, {});
    assert.equal((await storedRow(admin, table, storedKey(id2)))?.sess_name, 'connect.sid');
  });

  it('idPattern decides which ids are accepted (flags g/y do not make it stateful)', async () => {
    const { store } = open({ idPattern: /^[0-9]{8}$/g });
    for (let i = 0; i < 3; i++) {
      await store.write('12345678', { i });
      assert.deepEqual((await store.read('12345678'))?.data, { i });
    }
    const defaultValid = newId();
    assert.equal(await store.read(defaultValid), undefined);
    await assert.rejects(store.write(defaultValid, {}), { code: 'SPG_INVALID_SESSION_ID' });
    await assert.rejects(store.write('1234567', {}), { code: 'SPG_INVALID_SESSION_ID' });
  });

  it('hashIds (default): sess_id is the SHA-256 base64url digest and the id is nowhere in the table', async () => {
    const { store, table } = open({ hashIds: true });
    const id = newId();
    await store.write(id, { secret: 'x' });
    const { rows } = await admin.query<{ sess_id: string }>(`SELECT sess_id FROM ${quoted(table)}`);
    assert.deepEqual(rows, [{ sess_id: storedKey(id) }]);
    assert.match(storedKey(id), /^[A-Za-z0-9_-]{43}$/);
    const { rows: leaks } = await admin.query(
      `SELECT 1 FROM ${quoted(table)} t WHERE strpos(t::text, $1) > 0`,
      [id],
    );
    assert.equal(leaks.length, 0);
    assert.deepEqual(await store.ids(), [storedKey(id)]);
    assert.deepEqual((await store.read(id))?.data, { secret: 'x' });
  });

  it('hashIds: false stores the id itself', async () => {
    const { store, table } = open({ hashIds: false });
    const id = newId();
    await store.write(id, { plain: true });
    assert.ok(await storedRow(admin, table, id));
    assert.deepEqual(await store.ids(), [id]);
    assert.deepEqual([...(await store.all())], [[id, { plain: true }]]);
  });

  it('maxSessionBytes: an oversize session is refused (counted in bytes) and the stored one kept', async () => {
    const { store, table } = open({ maxSessionBytes: 100 });
    const id = newId();
    await store.write(id, { small: 'x'.repeat(50) });
    const before = await storedRow(admin, table, storedKey(id));
    // 40 characters but 120 bytes of UTF-8
    await assert.rejects(store.write(id, { big: '€'.repeat(40) }), {
      code: 'SPG_SESSION_TOO_LARGE',
      message: /maxSessionBytes/,
    });
    await assert.rejects(store.write(id, { big: 'x'.repeat(200) }), {
      code: 'SPG_SESSION_TOO_LARGE',
    });
    assert.deepEqual(await storedRow(admin, table, storedKey(id)), before);
    assert.deepEqual((await store.read(id))?.data, { small: 'x'.repeat(50) });
  });

  it('ttl sets the lifetime when the write gives none', async () => {
    const { store, table } = open({ ttl: 100 });
    const a = newId();
    const b = newId();
    await store.write(a, {});
    await store.write(b, {}, { lifetimeSeconds: 50 });
    const rowA = await storedRow(admin, table, storedKey(a));
    const rowB = await storedRow(admin, table, storedKey(b));
    assert.equal((rowA?.sess_expire ?? 0) - (rowA?.sess_modified ?? 0), 100);
    assert.equal((rowB?.sess_expire ?? 0) - (rowB?.sess_modified ?? 0), 50);
    assert.equal(
      (await store.read(a))?.state.info().expires?.getTime(),
      (rowA?.sess_expire ?? 0) * 1000,
    );
  });
});

describe('connections', () => {
  it('poolSize bounds the connections the store opens', async () => {
    const appName = `spg pool size ${process.pid}`;
    const u = new URL(url);
    u.searchParams.set('application_name', appName);
    const { store } = open({ db: u.href, poolSize: 3 });
    const ids = Array.from({ length: 30 }, newId);
    await Promise.all(ids.map((id) => store.write(id, { id })));
    const { rows } = await admin.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
      [appName],
    );
    const n = rows[0]?.n ?? 0;
    assert.ok(n >= 1 && n <= 3, `${n} connections`);
    assert.equal(await store.length(), 30);
  });

  for (const preparedStatements of [true, false]) {
    it(`preparedStatements: ${preparedStatements} runs every operation`, async () => {
      // a pool of one connection, so that its prepared statements can be listed afterwards
      const pool = new pg.Pool({ connectionString: url, max: 1 });
      const table = uniqueTable();
      const store = new SessionPgsql<Data>({ db: pool, table, gcInterval: 0, preparedStatements });
      try {
        const id = newId();
        await store.write(id, { n: 1 });
        const loaded = await store.read(id);
        assert.deepEqual(loaded?.data, { n: 1 });
        await store.write(id, { n: 2 }, { state: loaded?.state });
        assert.equal(await store.touch(id), true);
        assert.equal(await store.length(), 1);
        assert.deepEqual([...(await store.all()).values()], [{ n: 2 }]);
        await admin.query(
          `UPDATE ${quoted(table)} SET sess_expire = sess_expire - 100000 WHERE sess_id = $1`,
          [storedKey(id)],
        );
        assert.equal(await store.gc(), 1);
        await store.clear();
        await store.destroy(id);
        const { rows } = await pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'session_pgsql_%'",
        );
        if (preparedStatements) assert.ok((rows[0]?.n ?? 0) >= 5);
        else assert.equal(rows[0]?.n, 0);
      } finally {
        await store.close();
        await pool.end();
      }
    });
  }
});
