import { createHash, randomUUID } from 'node:crypto';
import { toPoolConfig } from './conninfo.js';
import { openDatabases } from './database/open-database.js';
import { openListenConnection } from './database/pg-database.js';
import { ErrorCodes, SessionPgsqlError } from './errors.js';
import type { ResolvedOptions } from './options.js';
import { Server } from './server.js';
import { buildStatements } from './statements.js';

export interface CreatedServers {
  readonly servers: Server[];
  /** With the cache on: the last parameter of notifying statements (this store's instance id). */
  readonly notifyArgs: readonly string[];
}

/**
 * Opens one Server per `db` entry with the statements of the table, and, with the
 * cache on, a notification channel per table and a LISTEN connection per server.
 */
export function createServers(
  o: ResolvedOptions<unknown>,
  onHealthChange: (server: Server, up: boolean, error?: unknown) => void,
): CreatedServers {
  const instanceId = randomUUID();
  const opened = openDatabases(o);
  const listenDbs = o.cacheListenDb?.split(';').map((db) => db.trim());
  if (listenDbs && listenDbs.length !== opened.length) {
    throw new SessionPgsqlError(
      ErrorCodes.INVALID_OPTION,
      `option "cacheListenDb" must name as many servers as "db" (${opened.length}), got ${listenDbs.length}`,
    );
  }
  const listens = opened.map(({ database }, index) => {
    const listenDb = listenDbs?.[index];
    return listenDb === undefined
      ? database.listen
      : () => openListenConnection(toPoolConfig(listenDb), o.connectTimeoutMillis);
  });
  const channel =
    o.cache && listens.some((listen) => listen !== undefined)
      ? `session_pgsql_${createHash('sha1').update(o.table.quoted).digest('hex').slice(0, 16)}`
      : undefined;
  const statements = buildStatements(o.table, o.keepExpired, channel);
  const servers = opened.map(
    ({ database, connection }, index) =>
      new Server({
        index,
        connection,
        database,
        statements,
        table: o.table,
        createTable: o.createTable,
        cache: o.cache
          ? {
              maxEntries: o.cacheMaxEntries,
              channel: channel ?? '',
              instanceId,
              listen: listens[index],
            }
          : undefined,
        healthCheckMillis: o.healthCheckMillis,
        batchMaxSessions: o.batchMaxSessions,
        onHealthChange,
      }),
  );
  return { servers, notifyArgs: channel ? [instanceId] : [] };
}
