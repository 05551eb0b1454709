import type { PoolConfig } from 'pg';
import { ErrorCodes, SessionPgsqlError } from '../errors.js';

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

const SESSION_ATTRS = [
  'any',
  'read-write',
  'primary',
  'read-only',
  'standby',
  'prefer-standby',
] as const;

/** libpq's target_session_attrs: which host of several to use. */
export type TargetSessionAttrs = (typeof SESSION_ATTRS)[number];

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

function portNumber(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port <= 0 || port > 65535)
    throw invalid(`port "${value}" is not a port number`);
  return port;
}

/** A postgres:// URL that node-postgres can read, or a clear error now rather than at connect. */
function checkedUrl(db: string): string {
  try {
    const url = new URL(db);
    decodeURIComponent(url.username);
    decodeURIComponent(url.password);
    decodeURIComponent(url.pathname);
  } catch {
    throw invalid('cannot parse the postgres:// URL (are special characters percent-encoded?)');
  }
  return db;
}

/** Turns a libpq key=value string or a postgres:// URL into node-postgres settings. */
export function toPoolConfig(db: string): PoolConfig {
  if (/^postgres(ql)?:\/\//i.test(db)) return { connectionString: checkedUrl(db) };
  const config: PoolConfig = {};
  for (const [key, value] of parseKeyValue(db)) {
    const target = KEYWORDS[key];
    if (target === 'port') {
      config.port = portNumber(value);
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
  // A multi-host URL (`a:5432,b:5433`) is no WHATWG URL: redact it with one host, then put
  // the list back, so that it keeps naming its hosts (it names the server in placement too).
  const multiHost = /^(postgres(?:ql)?:\/\/(?:[^@/?#]*@)?)([^/?#]*,[^/?#]*)(.*)$/i.exec(db);
  if (multiHost) {
    const [, start = '', hosts = '', rest = ''] = multiHost;
    const single = redact(`${start}multi-host${rest}`);
    return single.includes('multi-host') ? single.replace('multi-host', hosts) : single;
  }
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
  // A value is quoted ('a secret') or runs to the next unescaped space (a\ secret).
  return db.replace(
    /(password[ \t\n\r\f\v]*=[ \t\n\r\f\v]*)('(?:[^'\\]|\\.)*'|(?:[^ \t\n\r\f\v'\\]|\\.)*)/gi,
    '$1***',
  );
}

/** One server entry of `db`: one or several hosts (a primary and its standbys). */
export interface ServerTarget {
  /** node-postgres settings for each host, in the order given. */
  readonly hosts: readonly PoolConfig[];
  readonly targetSessionAttrs: TargetSessionAttrs;
}

function sessionAttrs(value: string | null | undefined): TargetSessionAttrs {
  const attrs = value ?? 'any';
  if ((SESSION_ATTRS as readonly string[]).includes(attrs)) return attrs as TargetSessionAttrs;
  throw invalid(`target_session_attrs must be one of ${SESSION_ATTRS.join(', ')}, got "${attrs}"`);
}

/** Pairs a host list with a port list as libpq does: one port for all, or one per host. */
function pairHosts(hosts: string[], ports: string[]): Array<[string, string | undefined]> {
  if (ports.length > 1 && ports.length !== hosts.length) {
    throw invalid(
      `${hosts.length} hosts but ${ports.length} ports: give one port, or one per host`,
    );
  }
  return hosts.map((host, i) => [host, ports.length > 1 ? ports[i] : ports[0]]);
}

/**
 * Reads a server entry, with libpq's multi-host forms: `host=a,b port=5432,5433
 * target_session_attrs=read-write`, or `postgres://u@a:5432,b:5433/db?target_session_attrs=read-write`.
 */
export function parseServerTarget(db: string): ServerTarget {
  const url = /^(postgres(?:ql)?:\/\/)([^@/?#]*@)?([^/?#]*)(.*)$/i.exec(db);
  if (url) {
    const [, scheme = '', auth = '', hostList = '', rest = ''] = url;
    const attrs = sessionAttrs(
      new URLSearchParams(rest.split('?')[1] ?? '').get('target_session_attrs'),
    );
    const hosts = hostList.split(',').map((h) => toPoolConfig(`${scheme}${auth}${h}${rest}`));
    return { hosts, targetSessionAttrs: attrs };
  }
  const pairs = parseKeyValue(db);
  const attrs = sessionAttrs(pairs.get('target_session_attrs'));
  const hostList = (pairs.get('host') ?? pairs.get('hostaddr') ?? '').split(',');
  const portList = (pairs.get('port') ?? '').split(',').filter((p) => p.length > 0);
  if (hostList.length === 1 && portList.length <= 1)
    return { hosts: [toPoolConfig(db)], targetSessionAttrs: attrs };
  const hosts = pairHosts(hostList, portList).map(([host, port]) => {
    const config = toPoolConfig(
      db.replace(/\b(host|hostaddr|port)\s*=\s*('(?:[^'\\]|\\.)*'|\S*)/gi, ''),
    );
    return port === undefined ? { ...config, host } : { ...config, host, port: portNumber(port) };
  });
  return { hosts, targetSessionAttrs: attrs };
}
