import type { PoolConfig } from 'pg';
import { ErrorCodes, SessionPgsqlError } from './errors.js';

/** libpq keywords the store maps onto node-postgres settings. */
const KEYWORDS: Record<string, keyof PoolConfig> = {
  host: 'host',
  hostaddr: 'host',
  port: 'port',
  dbname: 'database',
  user: 'user',
  password: 'password',
  application_name: 'application_name',
  options: 'options',
};

const IGNORED = new Set(['sslmode', 'connect_timeout', 'target_session_attrs', 'client_encoding']);

function invalid(message: string): SessionPgsqlError {
  return new SessionPgsqlError(ErrorCodes.INVALID_OPTION, `db: ${message}`);
}

/**
 * Parses a libpq key=value connection string (`host=a port=5432 dbname='my db'`),
 * with libpq's quoting: values in single quotes, `\'` and `\\` escapes.
 */
export function parseKeyValue(conninfo: string): Map<string, string> {
  const pairs = new Map<string, string>();
  const re = /\s*([A-Za-z_]+)\s*=\s*(?:'((?:[^'\\]|\\.)*)'|((?:[^\s'\\]|\\.)*))/y;
  let index = 0;
  while (index < conninfo.length) {
    if (/^\s*$/.test(conninfo.slice(index))) break;
    re.lastIndex = index;
    const match = re.exec(conninfo);
    if (!match?.[1])
      throw invalid(
        `cannot parse the connection string near "${conninfo.slice(index, index + 20)}"`,
      );
    const raw = match[2] ?? match[3] ?? '';
    pairs.set(match[1].toLowerCase(), raw.replace(/\\(.)/g, '$1'));
    index = re.lastIndex;
  }
  return pairs;
}

/** Turns a libpq key=value string or a postgres:// URL into node-postgres settings. */
export function toPoolConfig(db: string): PoolConfig {
  if (/^postgres(ql)?:\/\//i.test(db)) return { connectionString: db };
  const config: PoolConfig = {};
  for (const [key, value] of parseKeyValue(db)) {
    const target = KEYWORDS[key];
    if (target === 'port') {
      const port = Number(value);
      if (!Number.isInteger(port) || port <= 0 || port > 65535)
        throw invalid(`port "${value}" is not a port number`);
      config.port = port;
    } else if (target) {
      (config as Record<string, unknown>)[target] = value;
    } else if (key === 'sslmode') {
      if (value === 'require' || value === 'verify-ca' || value === 'verify-full') {
        config.ssl = value === 'require' ? { rejectUnauthorized: false } : true;
      }
    } else if (!IGNORED.has(key)) {
      throw invalid(`unknown connection keyword "${key}"`);
    }
  }
  if (config.host === undefined && config.database === undefined && config.user === undefined) {
    throw invalid('a connection string needs at least one of host, dbname or user');
  }
  return config;
}

/** A connection string for display: the password replaced by `***`. */
export function redact(db: string): string {
  if (/^postgres(ql)?:\/\//i.test(db)) {
    try {
      const url = new URL(db);
      if (url.password) url.password = '***';
      url.searchParams.forEach((_value, key) => {
        if (key.toLowerCase() === 'password') url.searchParams.set(key, '***');
      });
      return url.toString();
    } catch {
      return 'postgres://***';
    }
  }
  return db.replace(/(password\s*=\s*)('(?:[^'\\]|\\.)*'|\S*)/gi, '$1***');
}
