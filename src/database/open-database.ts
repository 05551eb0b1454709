import { redact, toPoolConfig } from '../conninfo.js';
import type { ResolvedOptions, ServerOption } from '../options.js';
import type { Database } from './database.js';
import { PgDatabase } from './pg-database.js';
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

function openServer(
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
  return {
    database: PgDatabase.open({
      config: toPoolConfig(server.value),
      poolSize: o.poolSize,
      connectTimeoutMillis: o.connectTimeoutMillis,
      queryTimeoutMillis: o.queryTimeoutMillis,
      preparedStatements: o.preparedStatements,
    }),
    connection: redact(server.value),
  };
}
