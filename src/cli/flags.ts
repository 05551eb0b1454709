import { parseArgs } from 'node:util';
import { ErrorCodes, SessionPgsqlError } from '../errors.js';
import type { SessionPgsqlOptions } from '../options/options.js';

/** One flag of a command: how `parseArgs` reads it and how `--help` describes it. */
export interface Flag {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  /** The value's name in `--help` (`--db CONNINFO`). */
  readonly value?: string;
  readonly description: string;
}

export type Flags = Readonly<Record<string, Flag>>;

/** The values parsed: strings and booleans by flag name, and the positional arguments. */
export interface Parsed {
  readonly values: Readonly<Record<string, string | boolean | undefined>>;
  readonly positionals: readonly string[];
}

/** The environment variable that `--db` defaults to. */
export const DB_ENV = 'SESSION_PGSQL_DB';

export const helpFlag = {
  help: { type: 'boolean', short: 'h', description: 'show this help' },
} as const satisfies Flags;

export const jsonFlag = {
  json: { type: 'boolean', description: 'print the result as JSON on stdout' },
} as const satisfies Flags;

/** `--port` and `--host` of a command that serves HTTP (`0`: any free port). */
export function listenFlags(defaultPort: number, hostDefault: string) {
  return {
    port: {
      type: 'string',
      value: 'PORT',
      description: `the port to listen on (default: ${defaultPort}; 0: any free one)`,
    },
    host: {
      type: 'string',
      value: 'HOST',
      description: `the address to listen on (default: ${hostDefault})`,
    },
  } as const satisfies Flags;
}

/** `--port` and `--host` as given, else their defaults (the host: 127.0.0.1). */
export function listenAddress(parsed: Parsed, defaultPort: number): { port: number; host: string } {
  return {
    port: integerFlag(parsed, 'port', 0) ?? defaultPort,
    host: stringFlag(parsed, 'host') ?? '127.0.0.1',
  };
}

/** Where the sessions are, and how the application stores them. */
export const storeFlags = {
  db: {
    type: 'string',
    value: 'CONNINFO',
    description: `the store's "db": a key=value string, a postgres:// URL, or several separated by ";"; embedded:DIR for the embedded PostgreSQL in DIR (default: $${DB_ENV})`,
  },
  table: {
    type: 'string',
    value: 'NAME',
    description: 'the session table, "table" or "schema.table" (default: php_session)',
  },
  'no-hash-ids': {
    type: 'boolean',
    description: 'ids are stored in clear, as the application runs with hashIds: false',
  },
  placement: {
    type: 'string',
    value: 'RULE',
    description: 'rendezvous (default) or session_pgsql, as the application places sessions',
  },
  'failover-mode': {
    type: 'boolean',
    description: 'the application runs with failoverMode: true',
  },
  'connect-timeout': {
    type: 'string',
    value: 'MS',
    description: 'how long to wait for a server to accept a connection (default: 5000)',
  },
} as const satisfies Flags;

/** A usage error: the command line is wrong (exit code 2). */
export function usageError(message: string): SessionPgsqlError {
  return new SessionPgsqlError(ErrorCodes.INVALID_OPTION, message);
}

/** Reads a command's arguments; an unknown flag or a missing value is a usage error. */
export function parseFlags(args: readonly string[], flags: Flags): Parsed {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [name, flag] of Object.entries(flags)) {
    options[name] = flag.short ? { type: flag.type, short: flag.short } : { type: flag.type };
  }
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      options,
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Parsed['values'], positionals };
  } catch (error) {
    throw usageError((error as Error).message.replace(/\. To specify a positional.*$/s, ''));
  }
}

export function stringFlag(parsed: Parsed, name: string): string | undefined {
  const value = parsed.values[name];
  return typeof value === 'string' ? value : undefined;
}

/** A whole number flag, at least `min`. */
export function integerFlag(parsed: Parsed, name: string, min = 1): number | undefined {
  const text = stringFlag(parsed, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min)
    throw usageError(
      `--${name} must be a whole number of at least ${min}, got ${JSON.stringify(text)}`,
    );
  return value;
}

/** `--db`, else `$SESSION_PGSQL_DB`; never the embedded database unless named (`embedded:DIR`). */
export function dbOptions(parsed: Parsed, env: NodeJS.ProcessEnv): SessionPgsqlOptions {
  const db = stringFlag(parsed, 'db') ?? env[DB_ENV];
  if (db === undefined || db.trim() === '') {
    throw usageError(
      `no database: pass --db CONNINFO or set ${DB_ENV} (for the embedded PostgreSQL of development: --db embedded:DIR)`,
    );
  }
  const embedded = /^embedded:(.*)$/s.exec(db.trim());
  if (embedded) {
    const dir = embedded[1] ?? '';
    if (dir === '')
      throw usageError('--db embedded:DIR needs the directory, e.g. embedded:.session-pgsql');
    return { embeddedDir: dir };
  }
  return { db };
}

/** The store's options from the common flags (the database and how sessions are stored). */
export function storeOptions(parsed: Parsed, env: NodeJS.ProcessEnv): SessionPgsqlOptions {
  const options: SessionPgsqlOptions = { ...dbOptions(parsed, env) };
  const table = stringFlag(parsed, 'table');
  if (table !== undefined) options.table = table;
  if (parsed.values['no-hash-ids'] === true) options.hashIds = false;
  if (parsed.values['failover-mode'] === true) options.failoverMode = true;
  const placement = stringFlag(parsed, 'placement');
  if (placement !== undefined)
    options.placement = placement as NonNullable<SessionPgsqlOptions['placement']>;
  const connectTimeout = integerFlag(parsed, 'connect-timeout');
  if (connectTimeout !== undefined) options.connectTimeoutMillis = connectTimeout;
  return options;
}
