import { ErrorCodes, SessionPgsqlError } from '../errors.js';
import { jsonSerializer } from '../serializers/json.js';
import { phpBinarySerializer, phpSerializer, phpSerializeSerializer } from '../serializers/php.js';
import type { Serializer } from '../serializers/serializer.js';
import { parseTableName, type TableName } from '../sql/table-name.js';
import { type DbInput, type DbOption, MAX_SERVERS, resolveDb } from './db-option.js';
import { loggerOption } from './logger-option.js';
import {
  boolean,
  custom,
  fraction,
  integer,
  invalidOption,
  MAX_TIMER_MILLIS,
  type Option,
  text,
} from './option.js';
import { optionHint } from './option-hints.js';

/** How sessions are spread over several servers (see the `placement` option). */
export type Placement = 'rendezvous' | 'session_pgsql';

const embeddedDir = text('.session-pgsql');

/** The serializers named by the `serializer` option, as PHP's `session.serialize_handler` names them. */
const SERIALIZERS = {
  json: jsonSerializer,
  php: phpSerializer,
  php_serialize: phpSerializeSerializer,
  php_binary: phpBinarySerializer,
} as const;

/** A serializer by name: `'json'`, or one of PHP's session formats. */
export type SerializerName = keyof typeof SERIALIZERS;
const DEFAULT_GC_INTERVAL_SECONDS = 3600;
const timer = { min: 10, max: MAX_TIMER_MILLIS, unit: 'milliseconds' } as const;

/**
 * Every option of the store, each described once: its documentation (shown by editors on
 * {@link SessionPgsqlOptions}), its default and its bounds. Names follow session_pgsql's
 * php.ini directives; the README's option table follows this one.
 */
const OPTIONS = {
  /**
   * Where sessions live: a libpq key=value string (`host=db dbname=app user=web`), a
   * `postgres://` URL, or a `pg` Pool you already have (never ended by the store).
   * Several servers: session_pgsql's `;`-separated list, or an array of those. An entry
   * may name several hosts (`host=a,b target_session_attrs=read-write`): a primary and
   * its standbys. Default: an embedded PostgreSQL (PGlite) in `embeddedDir`, for development.
   */
  db: custom<DbInput, DbOption>(
    {
      defaultText: 'an embedded PostgreSQL (PGlite) in `embeddedDir`',
      valuesText: `connection string, URL or pg Pool; or a list of 1 to ${MAX_SERVERS}`,
    },
    (value, _name, given) =>
      resolveDb(
        value,
        embeddedDir.resolve(given.embeddedDir as string | undefined, 'embeddedDir', given),
      ),
  ),
  /** Always use the first available server, the next only when it fails; no load balancing. Default `false`. */
  failoverMode: boolean(false),
  /**
   * How sessions are spread over several servers: `rendezvous` hashing (even spread; adding
   * one of N servers moves about 1/N of the sessions), or `session_pgsql`, that extension's
   * rule (the sum of the id's bytes modulo the number of servers, then the next servers in
   * order), so that a fleet it placed keeps finding its sessions. `session_pgsql` needs
   * `hashIds: false`, as session_pgsql stored ids in clear. Default `rendezvous`.
   */
  placement: custom<Placement, Placement>(
    { defaultText: '`rendezvous`', valuesText: '`rendezvous` or `session_pgsql`' },
    (value, name, given) => {
      if (value === undefined) return 'rendezvous';
      if (value !== 'rendezvous' && value !== 'session_pgsql')
        return invalidOption(name, '"rendezvous" or "session_pgsql"', value);
      if (value === 'session_pgsql' && given.hashIds !== false) {
        return invalidOption(
          name,
          '"rendezvous" while hashIds is on ("session_pgsql" places a session by its id as session_pgsql stored it, in clear: set hashIds: false)',
          value,
        );
      }
      return value;
    },
  ),
  /**
   * Longest wait between health checks of a server that is down, in milliseconds; also how
   * often failover markers are polled with several servers. Default `2000`.
   */
  healthCheckMillis: integer(2000, timer),
  /** The session table, optionally `schema.table`; quoted as an identifier. Default `php_session`. */
  table: custom<string, TableName>(
    { defaultText: '`php_session`', valuesText: '`table` or `schema.table`' },
    (value, name, given) => parseTableName(text('php_session').resolve(value, name, given)),
  ),
  /** Create the table and its expiry index when missing. Default `true`. */
  createTable: boolean(true),
  /**
   * Seconds between garbage collections across the whole fleet sharing the table.
   * `0` turns collection off (use `gc()` from cron); negative collects on every access.
   * Default `3600`.
   */
  gcInterval: integer(DEFAULT_GC_INTERVAL_SECONDS, {
    min: -(10 * 365 * 86_400),
    max: 10 * 365 * 86_400,
    unit: 'seconds',
  }),
  /**
   * How often each process checks whether a collection is due, in milliseconds (one
   * process of the fleet then claims it). Default: a quarter of `gcInterval`, at least 1000.
   */
  gcCheckMillis: integer(
    (given) =>
      Math.min(
        MAX_TIMER_MILLIS,
        Math.max(1000, Math.abs(Number(given.gcInterval ?? DEFAULT_GC_INTERVAL_SECONDS)) * 250),
      ),
    timer,
    'a quarter of `gcInterval`, at least 1000',
  ),
  /** Rows deleted per statement when collecting. Default `1000`. */
  gcBatchSize: integer(1000, { min: 1, max: 1_000_000 }),
  /**
   * Skip the write of a request that changed nothing, as long as the stored expiry is
   * still fresh (see `touchAfterFraction`). Default `false`.
   */
  shortCircuit: boolean(false),
  /**
   * With `shortCircuit`, the stored expiry is rewritten only once this part of the
   * session's lifetime has passed since it was last written. Default `0.1`.
   */
  touchAfterFraction: fraction(0.1, 0, 1),
  /** On expiry keep the row's metadata (counter, created time, addresses) and drop only the data. Default `false`. */
  keepExpired: boolean(false),
  /** Lifetime in seconds of a session whose cookie has no expiry. Default `1440` (PHP's gc_maxlifetime). */
  ttl: integer(1440, { min: 1, max: 100 * 365 * 86_400, unit: 'seconds' }),
  /**
   * How session data becomes text: `'json'`, one of PHP's session formats (`'php'`, PHP's
   * default; `'php_serialize'`; `'php_binary'`), for sessions shared with PHP
   * applications, or your own `{ stringify(data), parse(text) }`. Default `'json'`.
   */
  serializer: custom<Serializer<unknown> | SerializerName, Serializer<unknown>>(
    {
      defaultText: "`'json'`",
      valuesText:
        "`'json'`, `'php'`, `'php_serialize'`, `'php_binary'` or `{ stringify(data), parse(text) }`",
    },
    (value, name) => {
      if (value === undefined) return jsonSerializer;
      if (typeof value === 'string' && Object.hasOwn(SERIALIZERS, value)) {
        return SERIALIZERS[value] as Serializer<unknown>;
      }
      const s = value as Partial<Serializer<unknown>> | null;
      return typeof s === 'object' &&
        s !== null &&
        typeof s.parse === 'function' &&
        typeof s.stringify === 'function'
        ? (s as Serializer<unknown>)
        : invalidOption(
            name,
            "'json', 'php', 'php_serialize', 'php_binary' or an object with parse and stringify functions",
            value,
          );
    },
  ),
  /** Stored in `sess_name`, as PHP stored `session.name`. Default `connect.sid`. */
  name: text('connect.sid'),
  /** Session ids that do not match are treated as absent and never reach SQL. Default `/^[A-Za-z0-9_,-]{16,256}$/`. */
  idPattern: custom<RegExp, RegExp>(
    { defaultText: '`/^[A-Za-z0-9_,-]{16,256}$/`', valuesText: 'RegExp' },
    (value, name) => {
      if (value === undefined) return /^[A-Za-z0-9_,-]{16,256}$/;
      return value instanceof RegExp ? value : invalidOption(name, 'a RegExp', value);
    },
  ),
  /**
   * Store a SHA-256 digest of the session id instead of the id, so that whoever reads
   * the table cannot hijack sessions. Default `true`.
   */
  hashIds: boolean(true),
  /** Largest serialized session accepted, in bytes. Default `1048576` (1 MiB). */
  maxSessionBytes: integer(1_048_576, { min: 1, max: 2 ** 30 - 1, unit: 'bytes' }),
  /** Folder of the embedded database used when `db` is not given. Default `.session-pgsql`. */
  embeddedDir,
  /** Connections per server (ignored for a pool you pass). Default `10`. */
  poolSize: integer(10, { min: 1, max: 10_000 }),
  /** Time allowed to open a connection, in milliseconds. Default `5000`. */
  connectTimeoutMillis: integer(5000, { ...timer, min: 1 }),
  /** Time allowed for one statement, in milliseconds. Default `10000`. */
  queryTimeoutMillis: integer(10_000, { ...timer, min: 1 }),
  /** Use named prepared statements (one parse per connection). Default `true`. */
  preparedStatements: boolean(true),
  /**
   * Most sessions one statement reads, touches or updates: the calls of one turn of the
   * event loop go to each server together. `1` sends every call alone. Default `500`.
   */
  batchMaxSessions: integer(500, { min: 1, max: 100_000 }),
  /**
   * Keep recently read sessions in this process, kept coherent across processes with
   * LISTEN/NOTIFY: another process's write or destroy drops the entry. While the listening
   * connection is down the cache is off. Default `false`.
   */
  cache: boolean(false),
  /** Sessions kept by the cache, least recently used dropped first. Default `10000`. */
  cacheMaxEntries: integer(10_000, { min: 1, max: 10_000_000 }),
  /**
   * How often the cache proves that notifications still reach it, in milliseconds; the
   * cache is off within about twice this time after they stop. Default `2000`.
   */
  cacheHeartbeatMillis: integer(2000, timer),
  /**
   * Connection string for the LISTEN connection, when `db` goes through a transaction
   * pooler (PgBouncer) that cannot LISTEN. Default: the same server as `db`.
   */
  cacheListenDb: text(undefined, 'the same server as `db`'),
  /**
   * A pino-compatible logger (`{ debug, info, warn, error }(fields, message)`): failovers
   * (warn), recoveries (info), collections (debug) and failed background work (error,
   * instead of a process warning). Never given a session id or session data. Default: none.
   */
  logger: loggerOption,
} satisfies Record<string, Option<never, unknown>>;

type Options = typeof OPTIONS;
type InputOf<O> = O extends Option<infer Input, unknown> ? Input : never;
type ResolvedOf<O> = O extends Option<never, infer Resolved> ? Resolved : never;

/** Options whose validated value carries its unit in its name. */
const RENAMED = { gcInterval: 'gcIntervalSeconds', ttl: 'ttlSeconds' } as const;
type ResolvedName<K> = K extends keyof typeof RENAMED ? (typeof RENAMED)[K] : K;

/** Options of the store (see each one's documentation). */
export type SessionPgsqlOptions<Data = unknown> = {
  [K in keyof Options]?:
    | (K extends 'serializer' ? Serializer<Data> | SerializerName : InputOf<Options[K]>)
    | undefined;
};

/** Options after validation: complete, typed and frozen. */
export type ResolvedOptions<Data = unknown> = {
  readonly [K in keyof Options as ResolvedName<K>]: K extends 'serializer'
    ? Serializer<Data>
    : ResolvedOf<Options[K]>;
};

/** Each option's default and accepted values, as the README's option table states them. */
export const optionTexts: Readonly<
  Record<keyof Options, { readonly defaultText: string; readonly valuesText: string }>
> = Object.freeze(
  Object.fromEntries(
    Object.entries(OPTIONS).map(([name, o]) => [
      name,
      Object.freeze({ defaultText: o.defaultText, valuesText: o.valuesText }),
    ]),
  ) as Record<keyof Options, { defaultText: string; valuesText: string }>,
);

/** Validates the options once; every error names the option at fault. */
export function resolveOptions<Data>(
  options: SessionPgsqlOptions<Data> = {},
): ResolvedOptions<Data> {
  if (typeof options !== 'object' || options === null)
    invalidOption('options', 'an object', options);
  const given = options as Readonly<Record<string, unknown>>;
  for (const key of Object.keys(given)) {
    if (Object.hasOwn(OPTIONS, key)) continue;
    // A known name from elsewhere (connect-pg-simple, php.ini): its value, which may hold a
    // password (conString), is not shown.
    const hint = optionHint(key, Object.keys(OPTIONS));
    if (hint) throw new SessionPgsqlError(ErrorCodes.INVALID_OPTION, `option "${key}" ${hint}`);
    invalidOption(key, 'one of the documented options (unknown option)', given[key]);
  }
  const resolved: Record<string, unknown> = {};
  for (const [name, option] of Object.entries(OPTIONS) as [string, Option<unknown, unknown>][]) {
    const resolvedName = (RENAMED as Record<string, string>)[name] ?? name;
    resolved[resolvedName] = option.resolve(given[name], name, given);
  }
  return Object.freeze(resolved) as ResolvedOptions<Data>;
}
