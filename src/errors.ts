/**
 * Every failure the store reports is a {@link SessionPgsqlError} with a stable `code`.
 * Codes are never reused; the README has the table with causes and fixes.
 */
export const ErrorCodes = {
  /** An option failed validation at construction. */
  INVALID_OPTION: 'SPG_INVALID_OPTION',
  /** A session id does not match `idPattern`; it never reaches SQL. */
  INVALID_SESSION_ID: 'SPG_INVALID_SESSION_ID',
  /** The serialized session is larger than `maxSessionBytes`. */
  SESSION_TOO_LARGE: 'SPG_SESSION_TOO_LARGE',
  /** The serializer threw while turning a session into text. */
  SERIALIZE_FAILED: 'SPG_SERIALIZE_FAILED',
  /** The serializer threw while reading stored text; the row is left untouched. */
  PARSE_FAILED: 'SPG_PARSE_FAILED',
  /** No PostgreSQL server could be reached (refused, timed out, shut down). */
  DB_UNREACHABLE: 'SPG_DB_UNREACHABLE',
  /** PostgreSQL answered with an error (permission, constraint, syntax...). */
  DB_QUERY_FAILED: 'SPG_DB_QUERY_FAILED',
  /** The session table could not be found or created. */
  TABLE_SETUP_FAILED: 'SPG_TABLE_SETUP_FAILED',
  /**
   * The session table has no primary key (or unique index) on `sess_id`, as session_pgsql
   * created it before 1.0.1: writes cannot work until it is upgraded (`upgradeTable`).
   */
  TABLE_UPGRADE_NEEDED: 'SPG_TABLE_UPGRADE_NEEDED',
  /** `addError` was given a level other than error, warning or notice. */
  INVALID_ERROR_LEVEL: 'SPG_INVALID_ERROR_LEVEL',
  /** A metadata helper was called on a request that has no session. */
  NO_SESSION: 'SPG_NO_SESSION',
  /** The store was used after `close()`. */
  CLOSED: 'SPG_CLOSED',
  /**
   * No `db` option was given and @electric-sql/pglite, which the embedded database needs,
   * is not installed (it is an optional peer dependency, for development).
   */
  EMBEDDED_UNAVAILABLE: 'SPG_EMBEDDED_UNAVAILABLE',
  /**
   * A stored session is not what the framework needs (express-session, @fastify/session,
   * koa-session and the Hono middleware: an object, not a number, string, boolean, null or
   * array); the row is left untouched.
   */
  INVALID_SESSION_DATA: 'SPG_INVALID_SESSION_DATA',
  /**
   * Another transaction held the session's row locked longer than the statement may wait
   * (`lock_timeout`, half of `queryTimeoutMillis`). Nothing was written; the server is fine.
   */
  SESSION_LOCKED: 'SPG_SESSION_LOCKED',
  /**
   * Every connection of the store's pool stayed busy for `connectTimeoutMillis`: this
   * process sends more than `poolSize` connections can carry. The server is not marked down.
   */
  POOL_EXHAUSTED: 'SPG_POOL_EXHAUSTED',
  /**
   * An operator call (`gc`, `stats`, `revoke...`, `inspect`, `clear`, `length`) on a store
   * without `db` whose embedded folder holds no database: none is created for it.
   */
  EMBEDDED_NOT_FOUND: 'SPG_EMBEDDED_NOT_FOUND',
  /**
   * An optional peer dependency that a feature needs is not installed (`session-pgsql demo`
   * needs express and express-session).
   */
  PEER_UNAVAILABLE: 'SPG_PEER_UNAVAILABLE',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class SessionPgsqlError extends Error {
  override readonly name = 'SessionPgsqlError';
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/**
 * SQLSTATEs that mean the server cannot be reached now: connection failures, shutdowns,
 * too many connections. A refused login (class 28) or a missing database (3D000) is an
 * answer: `SPG_DB_QUERY_FAILED`, and the server is not marked down for it (moving its
 * sessions elsewhere would hide a configuration error).
 */
const CONNECTION_SQLSTATE = /^(08|57P0[1-4]|53300)/;
/** pg-pool's error for a request that waited for a free connection until the timeout. */
const POOL_WAIT = /^timeout exceeded when trying to connect$/;

/** SQLSTATE of a lock wait that reached `lock_timeout`. */
const LOCK_NOT_AVAILABLE = '55P03';

const CONNECTION_ERRNO = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
  'EPIPE',
  'EAI_AGAIN',
]);

/** Wraps a driver error into a coded error, keeping the original as `cause`. */
export function databaseError(cause: unknown, action: string): SessionPgsqlError {
  if (cause instanceof SessionPgsqlError) return cause;
  const code = (cause as { code?: unknown } | null)?.code;
  const message = cause instanceof Error ? cause.message : String(cause);
  if (POOL_WAIT.test(message) && code === undefined) {
    return new SessionPgsqlError(
      ErrorCodes.POOL_EXHAUSTED,
      `no free connection to ${action} within connectTimeoutMillis: every connection of the pool was busy (${message})`,
      { cause },
    );
  }
  if (code === LOCK_NOT_AVAILABLE) {
    return new SessionPgsqlError(
      ErrorCodes.SESSION_LOCKED,
      `PostgreSQL could not ${action}: another transaction holds the session's row locked (${message}, SQLSTATE ${code})`,
      { cause },
    );
  }
  if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && !CONNECTION_SQLSTATE.test(code)) {
    return new SessionPgsqlError(
      ErrorCodes.DB_QUERY_FAILED,
      `PostgreSQL refused to ${action}: ${message} (SQLSTATE ${code})`,
      { cause },
    );
  }
  const unreachable =
    (typeof code === 'string' && (CONNECTION_ERRNO.has(code) || CONNECTION_SQLSTATE.test(code))) ||
    /timeout|terminat|Connection|connect/i.test(message);
  return new SessionPgsqlError(
    unreachable ? ErrorCodes.DB_UNREACHABLE : ErrorCodes.DB_QUERY_FAILED,
    unreachable
      ? `cannot reach PostgreSQL to ${action}: ${message}`
      : `PostgreSQL failed to ${action}: ${message}`,
    { cause },
  );
}
