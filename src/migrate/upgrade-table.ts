import type { Database, Transaction } from '../database/database.js';
import { openDatabases } from '../database/open-database.js';
import { databaseError, ErrorCodes, SessionPgsqlError } from '../errors.js';
import { integer, MAX_TIMER_MILLIS } from '../options/option.js';
import { resolveOptions, type SessionPgsqlOptions } from '../options/options.js';
import type { SqlStatement } from '../sql/statement.js';
import type { TableName } from '../sql/table-name.js';
import type { TableShapeRow } from '../sql/table-shape.js';
import { upgradeStatements } from '../sql/table-upgrade.js';

/** Options of {@link upgradeTable}: the store's, plus how long to wait for the table's lock. */
export interface UpgradeTableOptions extends SessionPgsqlOptions {
  /**
   * How long the upgrade waits for its exclusive lock on the table, in milliseconds, before
   * giving up (meanwhile the application's statements on the table wait behind it).
   * Default `5000`.
   */
  lockTimeoutMillis?: number | undefined;
}

/** What the upgrade did on one server. */
export interface TableUpgrade {
  /** Position of the server in `db`, from 0. */
  readonly server: number;
  /** The server's connection, password hidden. */
  readonly connection: string;
  readonly table: string;
  /** The table did not exist: it was created as the store creates it. */
  readonly created: boolean;
  /** `sess_id` had no primary key (session_pgsql before 1.0.1): it has one now. */
  readonly primaryKeyAdded: boolean;
  /** Older rows of ids stored more than once, deleted: the newest of each id was kept. */
  readonly duplicatesRemoved: number;
  /** Rows without an id (no session can reach them), deleted. */
  readonly nullIdsRemoved: number;
  /** Time columns turned from 32-bit `integer` into `bigint`. */
  readonly widenedColumns: readonly string[];
  /** The index on `sess_expire` that garbage collection uses was missing: it was created. */
  readonly expireIndexCreated: boolean;
  /** Rows in the table afterwards (the store's bookkeeping rows aside). */
  readonly sessions: number;
}

/** What {@link upgradeTable} did: one entry per server of `db`. */
export interface UpgradeTableResult {
  readonly servers: readonly TableUpgrade[];
  /** False when every table already was what the store needs (nothing was changed). */
  readonly changed: boolean;
}

/** Default `queryTimeoutMillis` of an upgrade: rewriting a large table takes a while. */
const UPGRADE_QUERY_TIMEOUT_MILLIS = 10 * 60_000;
const lockTimeoutOption = integer(5000, { min: 1, max: MAX_TIMER_MILLIS, unit: 'milliseconds' });

/**
 * Brings the session table on every server of `db` to what the store needs, keeping every
 * session: adds the primary key on `sess_id` that session_pgsql's tables lacked before 1.0.1
 * (an id stored more than once keeps its newest row), turns 32-bit times into `bigint`,
 * and adds the expiry index. Each server's table is upgraded in one transaction, under the
 * advisory lock that serializes table creation, so running it twice, or from two places
 * at once, changes nothing more. Changing a table's definition needs its owner: run it as
 * the role that owns the table, not as the application's least-privilege role (that one
 * gets `SPG_TABLE_SETUP_FAILED`). `queryTimeoutMillis` defaults to 10 minutes here.
 */
export async function upgradeTable(options: UpgradeTableOptions = {}): Promise<UpgradeTableResult> {
  const { lockTimeoutMillis, ...storeOptions } = options;
  const lockMillis = lockTimeoutOption.resolve(lockTimeoutMillis, 'lockTimeoutMillis', {});
  const o = resolveOptions({ queryTimeoutMillis: UPGRADE_QUERY_TIMEOUT_MILLIS, ...storeOptions });
  const opened = openDatabases(o);
  try {
    const servers: TableUpgrade[] = [];
    for (const [index, { database, connection }] of opened.entries()) {
      const done = await upgradeOn(database, o.table, o.createTable, lockMillis);
      servers.push(Object.freeze({ server: index, connection, ...done }));
    }
    const changed = servers.some(
      (s) =>
        s.created ||
        s.primaryKeyAdded ||
        s.widenedColumns.length > 0 ||
        s.expireIndexCreated ||
        s.duplicatesRemoved > 0 ||
        s.nullIdsRemoved > 0,
    );
    return Object.freeze({ servers: Object.freeze(servers), changed });
  } finally {
    await Promise.all(opened.map(({ database }) => database.close().catch(() => {})));
  }
}

type Upgrade = Omit<TableUpgrade, 'server' | 'connection'>;

async function upgradeOn(
  database: Database,
  table: TableName,
  createTable: boolean,
  lockTimeoutMillis: number,
): Promise<Upgrade> {
  try {
    return await database.transaction((tx) => upgradeIn(tx, table, createTable, lockTimeoutMillis));
  } catch (cause) {
    throw upgradeError(cause, table, lockTimeoutMillis);
  }
}

async function upgradeIn(
  tx: Transaction,
  table: TableName,
  createTable: boolean,
  lockTimeoutMillis: number,
): Promise<Upgrade> {
  const s = upgradeStatements(table);
  const run = <Row>(statement: SqlStatement<string, Row>, values: unknown[] = []) =>
    tx.query<Row>(statement, values);
  await run(s.lock);
  let shape = (await run(s.shape, [table.quoted])).rows[0] as TableShapeRow;
  const upgrade = {
    table: table.display,
    created: false,
    primaryKeyAdded: false,
    duplicatesRemoved: 0,
    nullIdsRemoved: 0,
    widenedColumns: [] as string[],
    expireIndexCreated: false,
    sessions: 0,
  };
  const count = async () => (await run(s.count)).rows[0]?.count ?? 0;
  if (!shape.exists) {
    if (!createTable) {
      throw new SessionPgsqlError(
        ErrorCodes.TABLE_SETUP_FAILED,
        `the session table ${table.display} does not exist and createTable is false`,
      );
    }
    for (const statement of s.create) await run(statement);
    return { ...upgrade, created: true };
  }
  const needed = !shape.unique_id || shape.integer_times.length > 0 || !shape.expire_index;
  if (!needed) return { ...upgrade, sessions: await count() };
  if (!shape.owned) {
    throw new SessionPgsqlError(
      ErrorCodes.TABLE_SETUP_FAILED,
      `cannot upgrade the session table ${table.display}: changing a table's definition needs its owner, and the role "${shape.role}" is not "${shape.owner}", which owns it (the application's least-privilege role cannot, by design); run the upgrade as "${shape.owner}"`,
    );
  }
  await run(s.lockTimeout, [lockTimeoutMillis]);
  await run(s.lockTable);
  // Looked at again under the lock: DDL run meanwhile by hand (not under the advisory lock) counts.
  shape = (await run(s.shape, [table.quoted])).rows[0] as TableShapeRow;
  if (!shape.unique_id) {
    upgrade.nullIdsRemoved = (await run(s.deleteNullIds)).rowCount;
    upgrade.duplicatesRemoved = (await run(s.deleteDuplicates)).rowCount;
    await run(s.addPrimaryKey);
    upgrade.primaryKeyAdded = true;
  }
  if (shape.integer_times.length > 0) {
    await run(s.widen(shape.integer_times));
    upgrade.widenedColumns = [...shape.integer_times];
  }
  if (!shape.expire_index) {
    await run(s.createExpireIndex);
    upgrade.expireIndexCreated = true;
  }
  return {
    ...upgrade,
    widenedColumns: Object.freeze(upgrade.widenedColumns),
    sessions: await count(),
  };
}

/** SQLSTATE of a lock wait that reached `lock_timeout`. */
const LOCK_NOT_AVAILABLE = '55P03';

function upgradeError(
  cause: unknown,
  table: TableName,
  lockTimeoutMillis: number,
): SessionPgsqlError {
  if (cause instanceof SessionPgsqlError) return cause;
  if ((cause as { code?: unknown } | null)?.code === LOCK_NOT_AVAILABLE) {
    return new SessionPgsqlError(
      ErrorCodes.TABLE_SETUP_FAILED,
      `cannot upgrade the session table ${table.display}: other transactions kept it locked for lockTimeoutMillis (${lockTimeoutMillis} ms); nothing was changed: run it again at a quieter time, or with a larger lockTimeoutMillis`,
      { cause },
    );
  }
  const wrapped = databaseError(cause, `upgrade the session table ${table.display}`);
  if (wrapped.code === ErrorCodes.DB_UNREACHABLE) return wrapped;
  return new SessionPgsqlError(
    ErrorCodes.TABLE_SETUP_FAILED,
    `${wrapped.message}; nothing was changed`,
    { cause },
  );
}
