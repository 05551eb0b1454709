/**
 * Hints for option names the store does not know but users bring along: connect-pg-simple's
 * options, and session_pgsql's php.ini directives (with or without their `session_pgsql.`
 * prefix, and PHP's own `session.*` settings that session_pgsql used). Each names the option
 * to use instead, or says why none is needed.
 */

const CPS = "is connect-pg-simple's";

const CONNECT_PG_SIMPLE: Readonly<Record<string, string>> = {
  conString: `${CPS}: use "db" (a connection string or postgres:// URL)`,
  conObject: `${CPS}: use "db" with a connection string, or a pg Pool made from that object (db: new pg.Pool(conObject))`,
  pool: `${CPS}: pass the pool as "db" (db: pool); the store never ends a pool it was given`,
  pgPromise: `${CPS}: pass the pg Pool under your pg-promise database as "db" (db: database.$pool)`,
  tableName: `${CPS}: use "table" (default php_session); to bring its sessions over, see importConnectPgSimple`,
  schemaName: `${CPS}: use "table" with the schema (table: "schema.table")`,
  createTableIfMissing: `${CPS}: use "createTable" (default true)`,
  pruneSessionInterval: `${CPS}: use "gcInterval" (seconds; 0 turns collection off where connect-pg-simple took false)`,
  pruneSessionRandomizedInterval: `${CPS}: no equivalent is needed: collection is jittered and claimed once per interval for the whole fleet ("gcCheckMillis" sets how often each process checks)`,
  errorLog: `${CPS}: no equivalent is needed: errors reach express-session's callbacks, and background failures are process warnings (SPG_GC_FAILED; listen with process.on('warning'))`,
  disableTouch: `${CPS}: use "shortCircuit: true", which skips the write of an unchanged session while its stored expiry is fresh`,
};

const INI = "is session_pgsql's php.ini directive";

/** session_pgsql's directives, without their `session_pgsql.` prefix. */
const SESSION_PGSQL_INI: Readonly<Record<string, string>> = {
  db: `${INI}: use "db"`,
  create_table: `${INI}: use "createTable"`,
  failover_mode: `${INI}: use "failoverMode"`,
  short_circuit: `${INI}: use "shortCircuit"`,
  keep_expired: `${INI}: use "keepExpired"`,
  gc_interval: `${INI}: use "gcInterval"`,
  disable: `${INI}: no equivalent: to turn the store off, do not install it`,
  sem_file_name: `${INI}: no equivalent is needed: garbage collection is coordinated in the table itself`,
  vacuum_interval: `${INI}: no equivalent: leave VACUUM to PostgreSQL's autovacuum`,
  use_app_vars: `${INI}: no equivalent: application variables were removed in session_pgsql 1.0.0`,
  serializable: `${INI}: no equivalent is needed: concurrent writes are compared and merged (see "Concurrent writes" in the README)`,
};

const PHP = "is PHP's session setting";

/** PHP's `session.*` settings that session_pgsql used, without their prefix. */
const PHP_SESSION: Readonly<Record<string, string>> = {
  gc_maxlifetime: `${PHP}: use "ttl" (seconds, default 1440, for cookies without an expiry)`,
  name: `${PHP}: use "name" (stored in sess_name)`,
  save_handler: `${PHP}: no equivalent: pass the store to your framework's session middleware`,
  save_path: `${PHP}: no equivalent: use "db" and "table"`,
};

/**
 * What to say about an unknown option `name`: a hint naming the option to use, or
 * `undefined` when the name means nothing known. `known` are the store's option names.
 */
export function optionHint(name: string, known: readonly string[]): string | undefined {
  if (Object.hasOwn(CONNECT_PG_SIMPLE, name)) return CONNECT_PG_SIMPLE[name];
  const ini = name.match(/^session_pgsql\.(.+)$/)?.[1];
  if (ini !== undefined && Object.hasOwn(SESSION_PGSQL_INI, ini)) return SESSION_PGSQL_INI[ini];
  const php = name.match(/^session\.(.+)$/)?.[1];
  if (php !== undefined && Object.hasOwn(PHP_SESSION, php)) return PHP_SESSION[php];
  // session_pgsql's directives without their prefix (PHP's `name` is the store's own).
  if (name !== 'db' && Object.hasOwn(SESSION_PGSQL_INI, name)) return SESSION_PGSQL_INI[name];
  if (name === 'gc_maxlifetime') return PHP_SESSION.gc_maxlifetime;
  // Another spelling of one of ours: gc_interval, failovermode, cache-max-entries...
  const folded = fold(name);
  const match = known.find((option) => fold(option) === folded);
  return match === undefined ? undefined : `is not an option: did you mean "${match}"?`;
}

const fold = (name: string) => name.toLowerCase().replace(/[^a-z0-9]/g, '');
