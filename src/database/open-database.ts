import { conninfoOf, type ServerOption } from '../options/db-option.js';
import type { ResolvedOptions } from '../options/options.js';
import { parseServerTarget } from './conninfo.js';
import type { Database } from './database.js';
import { MultiHostDatabase } from './multi-host-database.js';
import { PgDatabase, type PgDatabaseSettings } from './pg-database.js';
import { PgliteDatabase } from './pglite-database.js';

export interface OpenedDatabase {
  readonly database: Database;
  /** How the server is shown (password hidden) and named in the placement hash. */
  readonly connection: string;
}

/** Opens the databases the `db` option names: the embedded one, or one per server. */
export function openDatabases(o: ResolvedOptions<unknown>): OpenedDatabase[] {
  if (o.db.kind === 'embedded') {
    return [{ database: new PgliteDatabase(o.db.dir), connection: `embedded:${o.db.dir}` }];
  }
  return o.db.servers.map((server, index) => openServer(server, index, o));
}

/** Opens one server entry of `db` (`index`: its position, which names a pool given as is). */
export function openServer(
  server: ServerOption,
  index: number,
  o: ResolvedOptions<unknown>,
): OpenedDatabase {
  if (server.kind === 'pool') {
    return {
      database: PgDatabase.wrap(server.pool, o.preparedStatements),
      connection: `pg Pool #${index}`,
    };
  }
  const target = parseServerTarget(conninfoOf(server));
  const settings = target.hosts.map(
    (config): PgDatabaseSettings => ({
      config,
      poolSize: o.poolSize,
      connectTimeoutMillis: o.connectTimeoutMillis,
      queryTimeoutMillis: o.queryTimeoutMillis,
      preparedStatements: o.preparedStatements,
    }),
  );
  const database =
    settings.length === 1 && target.targetSessionAttrs === 'any'
      ? PgDatabase.open(settings[0] as PgDatabaseSettings)
      : new MultiHostDatabase(settings, target.targetSessionAttrs);
  return { database, connection: server.connection };
}
