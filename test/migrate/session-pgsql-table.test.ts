/**
 * Issue 10, point 5: a session_pgsql table brought over without logging anyone out. A table
 * from before 1.0.1 (no primary key; ids possibly stored twice) is refused at start-up with
 * SPG_TABLE_UPGRADE_NEEDED; upgradeTable() makes it what the store needs in one transaction,
 * keeping every session (the newest row of a duplicated id), only as the table's owner,
 * and changes nothing when run again. A 1.0.1 table (integer times) works with a warning.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import {
  type SessionPgsql,
  SessionPgsqlError,
  type SessionPgsqlOptions,
  upgradeTable,
} from '../../src/index.js';
import { newId, quoted, storeTracker, uniqueTable } from '../core/fixtures.js';
import { type PostgresServer, startPostgres } from '../helpers/postgres.js';
import {
  createSessionPgsqlTable,
  insertAsSessionPgsql,
  phpSession,
  textSerializer,
  updateAsSessionPgsql,
} from '../helpers/session-pgsql-table.js';

const role = 'web';
let server: PostgresServer;
let ownerUrl: string;
let webUrl: string;
let admin: pg.Pool;
const stores = storeTracker();

before(async () => {
  server = await startPostgres({ name: 'upgrade' });
  ownerUrl = await server.createDatabase('app');
  webUrl = await server.createRole(role, {
    database: 'app',
    grants: [`GRANT CONNECT ON DATABASE app TO ${role}`, `GRANT USAGE ON SCHEMA public TO ${role}`],
  });
  admin = new pg.Pool({ connectionString: ownerUrl, max: 3 });
  admin.on('error', () => {});
});
after(async () => {
  await stores.closeAll();
  await admin?.end();
  await server?.destroy();
});

/** The store as a PHP fleet's sessions need it: clear ids, PHP's data kept as text. */
function phpStore(db: string, table: string): SessionPgsql<string> {
  const options: SessionPgsqlOptions<string> = {
    db,
    table,
    hashIds: false,
    name: 'PHPSESSID',
    serializer: textSerializer,
    gcInterval: 0,
  };
  return stores.open<string>(options);
}

/** Every row of the table, as text, in a stable order: to see that nothing changed. */
async function dump(table: string): Promise<string[]> {
  const { rows } = await admin.query<{ row: string }>(
    `SELECT t::text AS row FROM ${quoted(table)} AS t ORDER BY t::text COLLATE "C"`,
  );
  return rows.map((r) => r.row);
}

async function columnTypes(table: string): Promise<Record<string, string>> {
  const { rows } = await admin.query<{ name: string; type: string }>(
    `SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute
     WHERE attrelid = $1::regclass AND attname LIKE 'sess\\_%' AND NOT attisdropped`,
    [quoted(table)],
  );
  return Object.fromEntries(rows.map((r) => [r.name, r.type]));
}

const codeOf = (error: unknown) =>
  error instanceof SessionPgsqlError ? error.code : `not a SessionPgsqlError: ${String(error)}`;

/** The warnings of `code` emitted while `work` runs (and the turn after it). */
async function warningsDuring(code: string, work: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  const listener = (warning: Error & { code?: string }) => {
    if (warning.code === code) seen.push(warning.message);
  };
  process.on('warning', listener);
  try {
    await work();
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('warning', listener);
  }
  return seen;
}

interface Legacy {
  readonly table: string;
  /** Each id and the data its newest row holds: what a visitor must get back. */
  readonly sessions: Map<string, string>;
  /** The id stored twice, and the data of its older row. */
  readonly duplicated: { id: string; older: string; newer: string };
}

/**
 * A pre-1.0.1 table with 20 sessions written as the extension wrote them (some updated
 * since), one of them stored twice (two first requests at once; the later one, written
 * 30 s after, is the newer) and a row without an id, owned by the superuser, `web` granted
 * the application's four privileges.
 */
async function legacyTable(): Promise<Legacy> {
  const table = uniqueTable('php_session');
  await createSessionPgsqlTable(admin, table, { primaryKey: false });
  await admin.query(
    `GRANT SELECT, INSERT, UPDATE, DELETE ON ${quoted(table)} TO ${pg.escapeIdentifier(role)}`,
  );
  const sessions = new Map<string, string>();
  for (let i = 0; i < 20; i++) {
    const id = newId();
    const data = phpSession('user', `user${i}`);
    await insertAsSessionPgsql(admin, table, { id, data, secondsAgo: 600 });
    if (i % 3 === 0) {
      const updated = phpSession('user', `user${i}-updated`);
      await updateAsSessionPgsql(admin, table, { id, data: updated, counter: 2, secondsAgo: 60 });
      sessions.set(id, updated);
    } else {
      sessions.set(id, data);
    }
  }
  const id = newId();
  const older = phpSession('cart', 'older');
  const newer = phpSession('cart', 'newer');
  await insertAsSessionPgsql(admin, table, { id, data: older, secondsAgo: 90 });
  await insertAsSessionPgsql(admin, table, { id, data: newer, secondsAgo: 60 });
  sessions.set(id, newer);
  await admin.query(
    `INSERT INTO ${quoted(table)} (sess_id, sess_data, sess_expire) VALUES (NULL, 'orphan', 0)`,
  );
  return { table, sessions, duplicated: { id, older, newer } };
}

describe('a session_pgsql table from before 1.0.1 (no primary key, integer times)', () => {
  let legacy: Legacy;
  before(async () => {
    legacy = await legacyTable();
  });

  it('is refused by the store at start-up with SPG_TABLE_UPGRADE_NEEDED, and left as it is', async () => {
    const before = await dump(legacy.table);
    const store = phpStore(ownerUrl, legacy.table);
    const [id] = legacy.sessions.keys();
    assert.ok(id);
    for (const attempt of [() => store.read(id), () => store.write(id, phpSession('a', 'b'))]) {
      const error = await attempt().then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.equal(codeOf(error), 'SPG_TABLE_UPGRADE_NEEDED');
      assert.match(String((error as Error).message), /no primary key on sess_id/);
      assert.match(String((error as Error).message), /upgradeTable\(\)/);
    }
    assert.deepEqual(await dump(legacy.table), before);
  });

  it("cannot be upgraded by the application's least-privilege role: SPG_TABLE_SETUP_FAILED naming the owner, nothing changed", async () => {
    const before = await dump(legacy.table);
    const error = await upgradeTable({ db: webUrl, table: legacy.table }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.equal(codeOf(error), 'SPG_TABLE_SETUP_FAILED');
    assert.match(
      String((error as Error).message),
      /needs its owner, and the role "web" is not "postgres", which owns it/,
    );
    assert.deepEqual(await dump(legacy.table), before);
  });

  it('is upgraded by its owner in one go: primary key, bigint times, expiry index; the newest row of a duplicated id kept', async () => {
    const result = await upgradeTable({ db: ownerUrl, table: legacy.table });
    console.log(result);
    assert.equal(result.changed, true);
    assert.equal(result.servers.length, 1);
    assert.deepEqual(
      { ...result.servers[0], connection: 'hidden' },
      {
        server: 0,
        connection: 'hidden',
        table: quoted(legacy.table),
        created: false,
        primaryKeyAdded: true,
        duplicatesRemoved: 1,
        nullIdsRemoved: 1,
        widenedColumns: ['sess_created', 'sess_modified', 'sess_expire'],
        expireIndexCreated: true,
        sessions: legacy.sessions.size,
      },
    );
    assert.doesNotMatch(
      result.servers[0]?.connection ?? '',
      new RegExp(new URL(ownerUrl).password),
    );
    const types = await columnTypes(legacy.table);
    assert.equal(types.sess_created, 'bigint');
    assert.equal(types.sess_modified, 'bigint');
    assert.equal(types.sess_expire, 'bigint');
    const { rows } = await admin.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${quoted(legacy.table)} WHERE sess_id = $1`,
      [legacy.duplicated.id],
    );
    assert.equal(rows[0]?.n, 1);
  });

  it('then every session reads back with the data its newest row held, and takes writes (past 2038 too) without warnings', async () => {
    const warnings = await warningsDuring('SPG_TABLE_INTEGER_TIMES', async () => {
      const store = phpStore(ownerUrl, legacy.table);
      for (const [id, data] of legacy.sessions) {
        const loaded = await store.read(id);
        assert.equal(loaded?.data, data, `session ${id}`);
      }
      const id = newId();
      await store.write(id, phpSession('n', '1'), { lifetimeSeconds: 20 * 365 * 86_400 });
      assert.equal((await store.read(id))?.data, phpSession('n', '1'));
      await store.destroy(id);
      assert.equal(await store.length(), legacy.sessions.size);
    });
    assert.deepEqual(warnings, []);
  });

  it('the application role runs the store on it as before (SELECT, INSERT, UPDATE, DELETE only)', async () => {
    const store = phpStore(webUrl, legacy.table);
    const id = legacy.duplicated.id;
    const loaded = await store.read(id);
    assert.equal(loaded?.data, legacy.duplicated.newer);
    await store.write(id, phpSession('cart', 'paid'), { state: loaded?.state });
    assert.equal((await store.read(id))?.data, phpSession('cart', 'paid'));
  });

  it('running the upgrade again changes nothing, as the owner or as the application role', async () => {
    const before = await dump(legacy.table);
    for (const db of [ownerUrl, webUrl]) {
      const again = await upgradeTable({ db, table: legacy.table });
      assert.equal(again.changed, false);
      assert.deepEqual(
        { ...again.servers[0], connection: 'hidden' },
        {
          server: 0,
          connection: 'hidden',
          table: quoted(legacy.table),
          created: false,
          primaryKeyAdded: false,
          duplicatesRemoved: 0,
          nullIdsRemoved: 0,
          widenedColumns: [],
          expireIndexCreated: false,
          sessions: legacy.sessions.size,
        },
      );
    }
    assert.deepEqual(await dump(legacy.table), before);
  });
});

describe('upgradeTable', () => {
  it('run twice at once: one upgrades, the other waits on the same lock and finds nothing to do', async () => {
    const legacy = await legacyTable();
    const results = await Promise.all([
      upgradeTable({ db: ownerUrl, table: legacy.table }),
      upgradeTable({ db: ownerUrl, table: legacy.table }),
    ]);
    assert.deepEqual(
      results.map((r) => r.changed).sort(),
      [false, true],
      'exactly one of them changed the table',
    );
    for (const result of results) assert.equal(result.servers[0]?.sessions, legacy.sessions.size);
    const store = phpStore(ownerUrl, legacy.table);
    for (const [id, data] of legacy.sessions) assert.equal((await store.read(id))?.data, data);
  });

  it('keeps the same row of a duplicated id whatever order the rows lie in', async () => {
    const id = newId();
    // equal in modification time, expiry and counter: only the data tells them apart (one
    // time for all: inserts that straddle a second would otherwise differ in sess_modified)
    const writtenAt = Math.floor(Date.now() / 1000);
    const rows = ['alpha', 'bravo', 'charlie'].map((v) => ({
      id,
      data: phpSession('v', v),
      writtenAt,
    }));
    const kept: string[] = [];
    for (const order of [rows, [...rows].reverse()]) {
      const table = uniqueTable('php_session');
      await createSessionPgsqlTable(admin, table, { primaryKey: false });
      for (const row of order) await insertAsSessionPgsql(admin, table, row);
      const result = await upgradeTable({ db: ownerUrl, table });
      assert.equal(result.servers[0]?.duplicatesRemoved, 2);
      const { rows: left } = await admin.query<{ sess_data: string }>(
        `SELECT sess_data FROM ${quoted(table)}`,
      );
      assert.equal(left.length, 1);
      kept.push(left[0]?.sess_data ?? '');
    }
    assert.equal(kept[0], kept[1]);
  });

  it('gives up with SPG_TABLE_SETUP_FAILED when other transactions hold the table longer than lockTimeoutMillis, changing nothing', async () => {
    const legacy = await legacyTable();
    const before = await dump(legacy.table);
    const holder = new pg.Client({ connectionString: ownerUrl });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query(`SELECT count(*) FROM ${quoted(legacy.table)}`);
      const error = await upgradeTable({
        db: ownerUrl,
        table: legacy.table,
        lockTimeoutMillis: 200,
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.equal(codeOf(error), 'SPG_TABLE_SETUP_FAILED');
      assert.match(String((error as Error).message), /lockTimeoutMillis \(200 ms\)/);
      assert.equal(((error as Error).cause as { code?: string }).code, '55P03');
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    assert.deepEqual(await dump(legacy.table), before);
  });

  it('creates a missing table as the store would', async () => {
    const table = uniqueTable('fresh');
    const result = await upgradeTable({ db: ownerUrl, table });
    assert.equal(result.servers[0]?.created, true);
    assert.equal((await columnTypes(table)).sess_expire, 'bigint');
  });
});

describe('a session_pgsql 1.0.1 table (primary key, integer times)', () => {
  it('works with the warning SPG_TABLE_INTEGER_TIMES, refuses an expiry after 2038 until upgraded, then takes it', async () => {
    const table = uniqueTable('php_session');
    await createSessionPgsqlTable(admin, table, { primaryKey: true });
    const id = newId();
    await insertAsSessionPgsql(admin, table, { id, data: phpSession('user', 'ann') });
    const longLived = newId();
    let store = phpStore(ownerUrl, table);
    const warnings = await warningsDuring('SPG_TABLE_INTEGER_TIMES', async () => {
      assert.equal((await store.read(id))?.data, phpSession('user', 'ann'));
    });
    assert.equal(warnings.length, 1);
    assert.match(
      warnings[0] ?? '',
      /32-bit integer columns \(sess_created, sess_modified, sess_expire\)/,
    );
    const refused = await store
      .write(longLived, phpSession('n', '1'), { lifetimeSeconds: 20 * 365 * 86_400 })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.equal(((refused as Error).cause as { code?: string }).code, '22003'); // integer out of range
    const result = await upgradeTable({ db: ownerUrl, table });
    assert.deepEqual(result.servers[0]?.widenedColumns, [
      'sess_created',
      'sess_modified',
      'sess_expire',
    ]);
    assert.equal(result.servers[0]?.primaryKeyAdded, false);
    store = phpStore(ownerUrl, table);
    const after = await warningsDuring('SPG_TABLE_INTEGER_TIMES', async () => {
      assert.equal((await store.read(id))?.data, phpSession('user', 'ann'));
      await store.write(longLived, phpSession('n', '1'), { lifetimeSeconds: 20 * 365 * 86_400 });
      assert.equal((await store.read(longLived))?.data, phpSession('n', '1'));
    });
    assert.deepEqual(after, []);
  });
});

describe("the README's SQL for upgrading by hand", () => {
  it('does what upgradeTable() does on a pre-1.0.1 table, keeping every session', async () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const start = readme.indexOf('```sql\nBEGIN;\nLOCK TABLE php_session');
    assert.ok(start > 0, 'the README has the SQL');
    const script = readme.slice(start + '```sql\n'.length, readme.indexOf('```', start + 6));
    const legacy = await legacyTable();
    await admin.query(script.replaceAll('php_session', legacy.table));
    const types = await columnTypes(legacy.table);
    assert.equal(types.sess_expire, 'bigint');
    const store = phpStore(webUrl, legacy.table);
    for (const [id, data] of legacy.sessions) assert.equal((await store.read(id))?.data, data);
    const again = await upgradeTable({ db: ownerUrl, table: legacy.table });
    assert.equal(again.changed, false, 'nothing left for upgradeTable() to do');
  });
});
