import type { PgPoolLike } from './database/pg-database.js';
import { ErrorCodes, SessionPgsqlError } from './errors.js';
import { jsonSerializer, type Serializer } from './serializers/json.js';
import { parseTableName, type TableName } from './table-name.js';

/** Options of the store. Names follow session_pgsql's php.ini directives. */
export interface SessionPgsqlOptions<Data = unknown> {
  /**
   * Where sessions live: a libpq key=value string (`host=db dbname=app user=web`), a
   * `postgres://` URL, or a `pg` Pool you already have (never ended by the store).
   * Several servers: session_pgsql's `;`-separated list, or an array of those. An entry
   * may name several hosts (`host=a,b target_session_attrs=read-write`): a primary and
   * its standbys. Default: an embedded PostgreSQL (PGlite) in `embeddedDir`, for development.
   */
  db?: string | PgPoolLike | ReadonlyArray<string | PgPoolLike>;
  /**
   * Always use the first available server, the next only when it fails; no load balancing.
   * Default `false`.
   */
  failoverMode?: boolean;
  /**
   * Longest wait between health checks of a server that is down, in milliseconds; also how
   * often failover markers are polled with several servers. Default `2000`.
   */
  healthCheckMillis?: number;
  /** The session table, optionally `schema.table`; quoted as an identifier. Default `php_session`. */
  table?: string;
  /** Create the table and its expiry index when missing. Default `true`. */
  createTable?: boolean;
  /**
   * Seconds between garbage collections across the whole fleet sharing the table.
   * `0` turns collection off (use `gc()` from cron); negative collects on every access.
   * Default `3600`.
   */
  gcInterval?: number;
  /** Rows deleted per statement when collecting. Default `1000`. */
  gcBatchSize?: number;
  /**
   * Skip the write of a request that changed nothing, as long as the stored expiry is
   * still fresh (see `touchAfterFraction`). Default `false`.
   */
  shortCircuit?: boolean;
  /**
   * With `shortCircuit`, the stored expiry is rewritten only once this part of the
   * session's lifetime has passed since it was last written. Default `0.1`.
   */
  touchAfterFraction?: number;
  /** On expiry keep the row's metadata (counter, created time, addresses) and drop only the data. Default `false`. */
  keepExpired?: boolean;
  /** Lifetime in seconds of a session whose cookie has no expiry. Default `1440` (PHP's gc_maxlifetime). */
  ttl?: number;
  /** How session data becomes text. Default JSON. */
  serializer?: Serializer<Data>;
  /** Stored in `sess_name`, as PHP stored `session.name`. Default `connect.sid`. */
  name?: string;
  /** Session ids that do not match are treated as absent and never reach SQL. Default `/^[A-Za-z0-9_,-]{16,256}$/`. */
  idPattern?: RegExp;
  /**
   * Store a SHA-256 digest of the session id instead of the id, so that whoever reads
   * the table cannot hijack sessions. Default `true`.
   */
  hashIds?: boolean;
  /** Largest serialized session accepted, in bytes. Default `1048576` (1 MiB). */
  maxSessionBytes?: number;
  /** Folder of the embedded database used when `db` is not given. Default `.session-pgsql`. */
  embeddedDir?: string;
  /** Connections per server (ignored for a pool you pass). Default `10`. */
  poolSize?: number;
  /** Time allowed to open a connection, in milliseconds. Default `5000`. */
  connectTimeoutMillis?: number;
  /** Time allowed for one statement, in milliseconds. Default `10000`. */
  queryTimeoutMillis?: number;
  /** Use named prepared statements (one parse per connection). Default `true`. */
  preparedStatements?: boolean;
  /**
   * Most sessions one statement reads, touches or updates: the calls of one turn of the
   * event loop go to each server together. `1` sends every call alone. Default `500`.
   */
  batchMaxSessions?: number;
  /**
   * Keep recently read sessions in this process, kept coherent across processes with
   * LISTEN/NOTIFY: another process's write or destroy drops the entry. While the listening
   * connection is down the cache is off. Default `false`.
   */
  cache?: boolean;
  /** Sessions kept by the cache, least recently used dropped first. Default `10000`. */
  cacheMaxEntries?: number;
  /**
   * Connection string for the LISTEN connection, when `db` goes through a transaction
   * pooler (PgBouncer) that cannot LISTEN. Default: the same server as `db`.
   */
  cacheListenDb?: string;
}

export type ServerOption = { kind: 'conninfo'; value: string } | { kind: 'pool'; pool: PgPoolLike };

export type DbOption =
  | { kind: 'embedded'; dir: string }
  | { kind: 'servers'; servers: readonly ServerOption[] };

/** Options after validation: complete, typed and frozen. */
export interface ResolvedOptions<Data = unknown> {
  readonly db: DbOption;
  readonly failoverMode: boolean;
  readonly healthCheckMillis: number;
  readonly table: TableName;
  readonly createTable: boolean;
  readonly gcIntervalSeconds: number;
  readonly gcBatchSize: number;
  readonly shortCircuit: boolean;
  readonly touchAfterFraction: number;
  readonly keepExpired: boolean;
  readonly ttlSeconds: number;
  readonly serializer: Serializer<Data>;
  readonly name: string;
  readonly idPattern: RegExp;
  readonly hashIds: boolean;
  readonly maxSessionBytes: number;
  readonly poolSize: number;
  readonly connectTimeoutMillis: number;
  readonly queryTimeoutMillis: number;
  readonly preparedStatements: boolean;
  readonly batchMaxSessions: number;
  readonly cache: boolean;
  readonly cacheMaxEntries: number;
  readonly cacheListenDb: string | undefined;
}

/** Every option's name: the compiler checks this list against the interface. */
const KNOWN: Readonly<Record<keyof SessionPgsqlOptions, true>> = {
  db: true,
  failoverMode: true,
  healthCheckMillis: true,
  table: true,
  createTable: true,
  gcInterval: true,
  gcBatchSize: true,
  shortCircuit: true,
  touchAfterFraction: true,
  keepExpired: true,
  ttl: true,
  serializer: true,
  name: true,
  idPattern: true,
  hashIds: true,
  maxSessionBytes: true,
  embeddedDir: true,
  poolSize: true,
  connectTimeoutMillis: true,
  queryTimeoutMillis: true,
  preparedStatements: true,
  batchMaxSessions: true,
  cache: true,
  cacheMaxEntries: true,
  cacheListenDb: true,
};

function fail(option: string, expected: string, value: unknown): never {
  const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
  throw new SessionPgsqlError(
    ErrorCodes.INVALID_OPTION,
    `option "${option}" must be ${expected}, got ${shown}`,
  );
}

function boolean(option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  return typeof value === 'boolean' ? value : fail(option, 'a boolean', value);
}

function number(
  option: string,
  value: unknown,
  fallback: number,
  check: (n: number) => boolean,
  expected: string,
): number {
  const n = value === undefined ? fallback : value;
  return typeof n === 'number' && Number.isFinite(n) && check(n)
    ? n
    : fail(option, expected, value);
}

function text(option: string, value: unknown, fallback: string): string {
  const s = value === undefined ? fallback : value;
  return typeof s === 'string' && s.length > 0 && !s.includes('\0')
    ? s
    : fail(option, 'a non-empty string', value);
}

function isPool(value: unknown): value is PgPoolLike {
  const pool = value as Partial<PgPoolLike> | null;
  return (
    typeof pool === 'object' &&
    pool !== null &&
    typeof pool.query === 'function' &&
    typeof pool.end === 'function' &&
    typeof pool.on === 'function'
  );
}

/** Splits session_pgsql's `;`-separated list, leaving `;` inside single quotes alone. */
function splitServers(db: string): string[] {
  return (db.match(/(?:'(?:[^'\\]|\\.)*'|[^;'])+/g) ?? [])
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/** Most servers in one store, as in session_pgsql. */
const MAX_SERVERS = 31;

function resolveDb(db: unknown, embeddedDir: unknown): DbOption {
  if (db === undefined)
    return { kind: 'embedded', dir: text('embeddedDir', embeddedDir, '.session-pgsql') };
  const entries = Array.isArray(db) ? db : [db];
  const servers: ServerOption[] = [];
  for (const entry of entries) {
    if (typeof entry === 'string' && entry.trim().length > 0) {
      for (const value of splitServers(entry)) servers.push({ kind: 'conninfo', value });
    } else if (isPool(entry)) {
      servers.push({ kind: 'pool', pool: entry });
    } else {
      fail(
        'db',
        'a connection string, a postgres:// URL, a pg Pool, or a list of them',
        typeof entry === 'object' && entry !== null ? 'an object that is not a pool' : entry,
      );
    }
  }
  if (servers.length === 0 || servers.length > MAX_SERVERS) {
    fail('db', `from 1 to ${MAX_SERVERS} servers`, `${servers.length} servers`);
  }
  return { kind: 'servers', servers: Object.freeze(servers) };
}

function resolveSerializer<Data>(value: unknown): Serializer<Data> {
  if (value === undefined) return jsonSerializer as Serializer<Data>;
  const s = value as Partial<Serializer<Data>> | null;
  if (
    typeof s === 'object' &&
    s !== null &&
    typeof s.parse === 'function' &&
    typeof s.stringify === 'function'
  ) {
    return s as Serializer<Data>;
  }
  return fail('serializer', 'an object with parse and stringify functions', value);
}

/** Validates the options once; every error names the option at fault. */
export function resolveOptions<Data>(
  options: SessionPgsqlOptions<Data> = {},
): ResolvedOptions<Data> {
  if (typeof options !== 'object' || options === null) fail('options', 'an object', options);
  for (const key of Object.keys(options)) {
    if (!Object.hasOwn(KNOWN, key))
      fail(
        key,
        'one of the documented options (unknown option)',
        (options as Record<string, unknown>)[key],
      );
  }
  const idPattern = options.idPattern ?? /^[A-Za-z0-9_,-]{16,256}$/;
  if (!(idPattern instanceof RegExp)) fail('idPattern', 'a RegExp', idPattern);
  const integer = (n: number) => Number.isInteger(n);
  return Object.freeze({
    db: Object.freeze(resolveDb(options.db, options.embeddedDir)),
    failoverMode: boolean('failoverMode', options.failoverMode, false),
    healthCheckMillis: number(
      'healthCheckMillis',
      options.healthCheckMillis,
      2000,
      (n) => integer(n) && n >= 100,
      'an integer of at least 100 (milliseconds)',
    ),
    table: parseTableName(text('table', options.table, 'php_session')),
    createTable: boolean('createTable', options.createTable, true),
    gcIntervalSeconds: number(
      'gcInterval',
      options.gcInterval,
      3600,
      integer,
      'an integer number of seconds',
    ),
    gcBatchSize: number(
      'gcBatchSize',
      options.gcBatchSize,
      1000,
      (n) => integer(n) && n > 0,
      'a positive integer',
    ),
    shortCircuit: boolean('shortCircuit', options.shortCircuit, false),
    touchAfterFraction: number(
      'touchAfterFraction',
      options.touchAfterFraction,
      0.1,
      (n) => n >= 0 && n < 1,
      'a number from 0 up to (not including) 1',
    ),
    keepExpired: boolean('keepExpired', options.keepExpired, false),
    ttlSeconds: number(
      'ttl',
      options.ttl,
      1440,
      (n) => integer(n) && n > 0,
      'a positive integer number of seconds',
    ),
    serializer: resolveSerializer<Data>(options.serializer),
    name: text('name', options.name, 'connect.sid'),
    idPattern,
    hashIds: boolean('hashIds', options.hashIds, true),
    maxSessionBytes: number(
      'maxSessionBytes',
      options.maxSessionBytes,
      1_048_576,
      (n) => integer(n) && n > 0,
      'a positive integer',
    ),
    poolSize: number(
      'poolSize',
      options.poolSize,
      10,
      (n) => integer(n) && n > 0,
      'a positive integer',
    ),
    connectTimeoutMillis: number(
      'connectTimeoutMillis',
      options.connectTimeoutMillis,
      5000,
      (n) => integer(n) && n > 0,
      'a positive integer',
    ),
    queryTimeoutMillis: number(
      'queryTimeoutMillis',
      options.queryTimeoutMillis,
      10_000,
      (n) => integer(n) && n > 0,
      'a positive integer',
    ),
    preparedStatements: boolean('preparedStatements', options.preparedStatements, true),
    batchMaxSessions: number(
      'batchMaxSessions',
      options.batchMaxSessions,
      500,
      (n) => integer(n) && n > 0,
      'a positive integer',
    ),
    cache: boolean('cache', options.cache, false),
    cacheMaxEntries: number(
      'cacheMaxEntries',
      options.cacheMaxEntries,
      10_000,
      (n) => integer(n) && n > 0,
      'a positive integer',
    ),
    cacheListenDb:
      options.cacheListenDb === undefined
        ? undefined
        : text('cacheListenDb', options.cacheListenDb, ''),
  });
}
