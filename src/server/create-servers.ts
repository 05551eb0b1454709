import { createHash, randomUUID } from 'node:crypto';
import { toPoolConfig } from '../database/conninfo.js';
import { openDatabases } from '../database/open-database.js';
import { openListenConnection } from '../database/pg-database.js';
import { splitServers } from '../options/db-option.js';
import { invalidOption } from '../options/option.js';
import type { ResolvedOptions } from '../options/options.js';
import { buildStatements } from '../sql/statements.js';
import { Server } from './server.js';

/**
 * Opens one Server per `db` entry with the statements of the table, and, with the
 * cache on, a notification channel per table and a LISTEN connection per server.
 */
export function createServers(
  o: ResolvedOptions<unknown>,
  onHealthChange: (server: Server, up: boolean, error?: unknown) => void,
): Server[] {
  const opened = openDatabases(o);
  const listenDbs = o.cacheListenDb === undefined ? undefined : splitServers(o.cacheListenDb);
  if (listenDbs && listenDbs.length !== opened.length) {
    invalidOption(
      'cacheListenDb',
      `a list of as many servers as "db" (${opened.length})`,
      `${listenDbs.length} servers`,
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
  const statements = buildStatements(o.table, {
    keepExpired: o.keepExpired,
    hashIds: o.hashIds,
    channel,
  });
  const instanceId = randomUUID();
  return opened.map(
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
              keysAreDigests: o.hashIds,
              channel: channel ?? '',
              instanceId,
              heartbeatMillis: o.cacheHeartbeatMillis,
              listen: listens[index],
            }
          : undefined,
        healthCheckMillis: o.healthCheckMillis,
        batchMaxSessions: o.batchMaxSessions,
        onHealthChange,
      }),
  );
}
