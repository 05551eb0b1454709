import { redact } from '../database/conninfo.js';
import type { PgPoolLike } from '../database/pg-database.js';
import { invalidOption } from './option.js';

/** One server of `db`, as validated. A connection string is shown with its password hidden. */
export type ServerOption =
  | { readonly kind: 'conninfo'; readonly connection: string }
  | { readonly kind: 'pool'; readonly pool: PgPoolLike };

export type DbOption =
  | { readonly kind: 'embedded'; readonly dir: string }
  | { readonly kind: 'servers'; readonly servers: readonly ServerOption[] };

export type DbInput = string | PgPoolLike | ReadonlyArray<string | PgPoolLike>;

/** Most servers in one store, as in session_pgsql. */
export const MAX_SERVERS = 31;

/**
 * The connection strings as given, passwords included: kept out of every public object
 * (`store.options` shows `connection`, redacted), reachable only inside the package.
 */
const conninfos = new WeakMap<ServerOption, string>();

/** The connection string of a server entry, as given (with its password). */
export function conninfoOf(server: ServerOption & { kind: 'conninfo' }): string {
  return conninfos.get(server) ?? server.connection;
}

export function isPool(value: unknown): value is PgPoolLike {
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
export function splitServers(db: string): string[] {
  return (db.match(/(?:'(?:[^'\\]|\\.)*'|[^;'])+/g) ?? [])
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

function conninfoServer(value: string): ServerOption {
  const server: ServerOption = Object.freeze({ kind: 'conninfo', connection: redact(value) });
  conninfos.set(server, value);
  return server;
}

/** Reads `db`: absent means the embedded database in `embeddedDir`. */
export function resolveDb(db: DbInput | undefined, embeddedDir: string): DbOption {
  if (db === undefined) return Object.freeze({ kind: 'embedded', dir: embeddedDir });
  const entries: readonly unknown[] = Array.isArray(db) ? db : [db];
  const servers: ServerOption[] = [];
  for (const entry of entries) {
    if (typeof entry === 'string' && entry.trim().length > 0) {
      for (const value of splitServers(entry)) servers.push(conninfoServer(value));
    } else if (isPool(entry)) {
      servers.push(Object.freeze({ kind: 'pool', pool: entry }));
    } else {
      invalidOption(
        'db',
        'a connection string, a postgres:// URL, a pg Pool, or a list of them',
        typeof entry === 'object' && entry !== null ? 'an object that is not a pool' : entry,
      );
    }
  }
  if (servers.length === 0 || servers.length > MAX_SERVERS) {
    invalidOption('db', `from 1 to ${MAX_SERVERS} servers`, `${servers.length} servers`);
  }
  return Object.freeze({ kind: 'servers', servers: Object.freeze(servers) });
}
