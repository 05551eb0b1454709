import type { Database } from '../database/database.js';
import { openDatabases, openServer } from '../database/open-database.js';
import type { PgPoolLike } from '../database/pg-database.js';
import { databaseError, ErrorCodes, SessionPgsqlError } from '../errors.js';
import { isPool, resolveDb } from '../options/db-option.js';
import { integer, invalidOption } from '../options/option.js';
import { resolveOptions, type SessionPgsqlOptions } from '../options/options.js';
import { serverOrder } from '../routing/placement.js';
import {
  type ConnectPgSimpleRow,
  connectPgSimpleStatements,
  importSessionsStatement,
} from '../sql/import-statements.js';
import { bind, type SqlStatement } from '../sql/statement.js';
import { buildStatements } from '../sql/statements.js';
import { ensureTable } from '../sql/table.js';
import { parseTableName } from '../sql/table-name.js';
import { SessionCodec } from '../store/session-codec.js';
import { SessionIds } from '../store/session-ids.js';

/** Options of {@link importConnectPgSimple}. */
export interface ImportConnectPgSimpleOptions<Data = unknown> {
  /** Where connect-pg-simple's table is: a connection string, a `postgres://` URL or a pg Pool. */
  from: string | PgPoolLike;
  /**
   * connect-pg-simple's table, `table` or `schema.table` (its `schemaName` and `tableName`).
   * Default `session`, connect-pg-simple's default.
   */
  table?: string | undefined;
  /**
   * The store to import into: the options it runs with (`db`, `table`, `hashIds`,
   * `serializer`, `idPattern`, `name`, `placement`...), so that each session is keyed,
   * serialized and placed as the store will look for it. Its table is created if missing.
   */
  to: SessionPgsqlOptions<Data>;
  /** Rows read (and written) per statement. Default `500`. */
  batchSize?: number | undefined;
  /** Called after each batch with the totals so far. */
  onProgress?: ((progress: ImportProgress) => void) | undefined;
}

/** Totals of an import, after each batch and at the end. */
export interface ImportProgress {
  /** Batches done. */
  readonly batches: number;
  /** Rows of connect-pg-simple's table read. */
  readonly read: number;
  /**
   * Sessions written into the store's table: new ones, and copies of an earlier import that
   * the old application changed since (and session-pgsql did not).
   */
  readonly imported: number;
  /**
   * Sessions the store's table already had and were left as they were: imported before and
   * unchanged since, or written (or touched) since by session-pgsql, which then wins.
   */
  readonly kept: number;
  /** Rows whose `expire` had passed: not brought over. */
  readonly expired: number;
  /** Rows whose `sid` the store's `idPattern` refuses (the store could never read them). */
  readonly invalidIds: number;
  /** Rows whose `sess` is not a JSON object, or that the store's serializer cannot write. */
  readonly unreadable: number;
  /** Sessions larger than the store's `maxSessionBytes`. */
  readonly tooLarge: number;
}

const batchSizeOption = integer(500, { min: 1, max: 100_000 });

/** An express-session session as connect-pg-simple stored it: its data and its cookie. */
type Session = Record<string, unknown> & { cookie?: unknown };

/**
 * Brings the sessions of a connect-pg-simple table into session-pgsql's table, so that
 * express-session with `PgsqlStore` finds every visitor's session under the same cookie:
 * each `sid` keyed as the store keys it (its SHA-256 with `hashIds`), each session
 * serialized by the store's serializer with its cookie as the store keeps it (without
 * `expires`, which the row holds), each `expire` kept (converted to Unix seconds in SQL).
 * Expired rows are left behind. It reads `batchSize` rows at a time in `sid` order (memory
 * stays bounded) and writes each batch in one statement per server. Running it again
 * imports only what is new or what the old application changed since, and never overwrites
 * a session that session-pgsql has written or touched since. The source table is only read.
 */
export async function importConnectPgSimple<Data = unknown>(
  options: ImportConnectPgSimpleOptions<Data>,
): Promise<ImportProgress> {
  if (typeof options !== 'object' || options === null)
    invalidOption('options', 'an object', options);
  const { from, onProgress } = options;
  if (typeof from !== 'string' && !isPool(from))
    invalidOption('from', 'a connection string, a postgres:// URL or a pg Pool', typeof from);
  if (onProgress !== undefined && typeof onProgress !== 'function')
    invalidOption('onProgress', 'a function', typeof onProgress);
  const batchSize = batchSizeOption.resolve(options.batchSize, 'batchSize', {});
  const sourceTable = parseTableName(options.table ?? 'session');
  const o = resolveOptions(options.to);
  const fromServers = resolveDb(from, '');
  const fromServer = fromServers.kind === 'servers' ? fromServers.servers : [];
  if (fromServer.length !== 1 || !fromServer[0])
    invalidOption('from', 'one server', `${fromServer.length} servers`);
  const source = openServer(fromServer[0], 0, o).database;
  const targets = openDatabases(o);
  try {
    const read = new SourceReader(source, sourceTable, batchSize);
    await read.checkTable();
    const statements = buildStatements(o.table, { keepExpired: o.keepExpired, hashIds: o.hashIds });
    for (const { database } of targets)
      await ensureTable(database, statements, o.table, o.createTable);
    const order = serverOrder(
      targets.map((t) => t.connection),
      o.placement,
      o.failoverMode,
    );
    const ids = new SessionIds(o.idPattern, o.hashIds);
    const codec = new SessionCodec<unknown>(o.serializer, o.maxSessionBytes);
    const importSessions = importSessionsStatement(o.table);
    const totals = {
      batches: 0,
      read: 0,
      imported: 0,
      kept: 0,
      expired: 0,
      invalidIds: 0,
      unreadable: 0,
      tooLarge: 0,
    };
    for (;;) {
      const rows = await read.next();
      if (rows.length === 0) break;
      const batches = new Map<number, { keys: string[]; data: string[]; expires: number[] }>();
      for (const row of rows) {
        totals.read += 1;
        const prepared = prepare(row, ids, codec);
        if (typeof prepared === 'string') {
          totals[prepared] += 1;
          continue;
        }
        const server = order(prepared.key)[0] ?? 0;
        const batch = batches.get(server) ?? { keys: [], data: [], expires: [] };
        batch.keys.push(prepared.key);
        batch.data.push(prepared.data);
        batch.expires.push(row.expire);
        batches.set(server, batch);
      }
      const written = await Promise.all(
        [...batches].map(async ([server, batch]) => {
          const database = (targets[server] as { database: Database }).database;
          const values = { name: o.name, ...batch };
          try {
            const { rowCount } = await database.query(importSessions, bind(importSessions, values));
            return { attempted: batch.keys.length, written: rowCount };
          } catch (cause) {
            throw databaseError(cause, 'import sessions');
          }
        }),
      );
      for (const { attempted, written: count } of written) {
        totals.imported += count;
        totals.kept += attempted - count;
      }
      totals.batches += 1;
      onProgress?.(Object.freeze({ ...totals }));
      if (rows.length < batchSize) break;
    }
    return Object.freeze({ ...totals });
  } finally {
    await Promise.all(
      [source, ...targets.map((t) => t.database)].map((d) => d.close().catch(() => {})),
    );
  }
}

type Skipped = 'expired' | 'invalidIds' | 'unreadable' | 'tooLarge';

/** A row as the store will store it, or why it is not brought over. */
function prepare(
  row: ConnectPgSimpleRow,
  ids: SessionIds,
  codec: SessionCodec<unknown>,
): { key: string; data: string } | Skipped {
  if (row.expired) return 'expired';
  const key = ids.key(row.sid);
  if (key === undefined || key.startsWith('!')) return 'invalidIds';
  const session = storedSession(row.sess);
  if (session === undefined) return 'unreadable';
  try {
    return { key, data: codec.stringify(session) };
  } catch (error) {
    const tooLarge =
      error instanceof SessionPgsqlError && error.code === ErrorCodes.SESSION_TOO_LARGE;
    return tooLarge ? 'tooLarge' : 'unreadable';
  }
}

/**
 * The session as `PgsqlStore` stores it: express-session's data with its cookie settings
 * (`originalMaxAge`, `httpOnly`, `path`...), without `cookie.expires`, which the row's
 * expiry holds (the store puts it back when it reads the session).
 */
function storedSession(text: string): Session | undefined {
  let session: unknown;
  try {
    session = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof session !== 'object' || session === null || Array.isArray(session)) return undefined;
  const { cookie } = session as Session;
  if (typeof cookie !== 'object' || cookie === null) return session as Session;
  const { expires: _expires, ...kept } = cookie as Record<string, unknown>;
  return { ...(session as Session), cookie: kept };
}

/** connect-pg-simple's table, read in `sid` order, one batch at a time. */
class SourceReader {
  readonly #database: Database;
  readonly #table: ReturnType<typeof parseTableName>;
  readonly #batchSize: number;
  readonly #statements: ReturnType<typeof connectPgSimpleStatements>;
  #after: string | undefined;

  constructor(database: Database, table: ReturnType<typeof parseTableName>, batchSize: number) {
    this.#database = database;
    this.#table = table;
    this.#batchSize = batchSize;
    this.#statements = connectPgSimpleStatements(table);
  }

  async checkTable(): Promise<void> {
    const { exists } = this.#statements;
    const { rows } = await this.#query(exists, bind(exists, { table: this.#table.quoted }));
    if (rows[0]?.exists !== true) {
      throw new SessionPgsqlError(
        ErrorCodes.INVALID_OPTION,
        `option "table": connect-pg-simple's table ${this.#table.display} does not exist where "from" points`,
      );
    }
  }

  async next(): Promise<ConnectPgSimpleRow[]> {
    const { first, next } = this.#statements;
    const limit = this.#batchSize;
    const { rows } =
      this.#after === undefined
        ? await this.#query(first, bind(first, { limit }))
        : await this.#query(next, bind(next, { after: this.#after, limit }));
    this.#after = rows.at(-1)?.sid ?? this.#after;
    return rows;
  }

  async #query<Row>(
    statement: SqlStatement<string, Row>,
    values: unknown[],
  ): Promise<{ rows: Row[] }> {
    try {
      return await this.#database.query<Row>(statement, values);
    } catch (cause) {
      throw databaseError(cause, `read connect-pg-simple's table ${this.#table.display}`);
    }
  }
}
