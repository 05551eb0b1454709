/** One statement on a short-lived connection, and database names in URLs. */
import pg from 'pg';

/** Runs one statement on a connection of its own to `url`, closed again afterwards. */
export async function runQuery<R extends pg.QueryResultRow>(
  url: string,
  sql: string,
  params: unknown[] = [],
): Promise<pg.QueryResult<R>> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: 10_000,
    query_timeout: 60_000,
  });
  client.on('error', () => {}); // the pending query (if any) rejects anyway
  await client.connect();
  try {
    return await client.query<R>(sql, params);
  } finally {
    await client.end();
  }
}

/** `url` pointing to `database` (a name, or a URL whose database is taken). */
export function withDatabase(url: string, database: string): string {
  const result = new URL(url);
  result.pathname = `/${encodeURIComponent(databaseName(database))}`;
  return result.href;
}

function databaseName(nameOrUrl: string): string {
  return nameOrUrl.includes('://')
    ? decodeURIComponent(new URL(nameOrUrl).pathname.slice(1))
    : nameOrUrl;
}
