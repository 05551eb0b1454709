import { bookkeepingStatements } from './bookkeeping-statements.js';
import { operatorStatements } from './operator-statements.js';
import { sessionStatements } from './session-statements.js';
import type { SqlStatement } from './statement.js';
import type { TableName } from './table-name.js';

export { foreignMarkerId, GC_MARKER_ID, TOMBSTONE_NAME } from './bookkeeping-statements.js';
export * from './params.js';

/**
 * Every statement the store runs, built once per table; values are always bound, by name.
 * With a `channel` (the cache is on), writes and destroys also notify the other
 * processes, in the same round trip: their `instance` parameter is this process's id.
 */
export function buildStatements(
  table: TableName,
  options: { keepExpired: boolean; hashIds: boolean; channel?: string | undefined },
) {
  const context = {
    t: table.quoted,
    keepExpired: options.keepExpired,
    keysAreDigests: options.hashIds,
    channel: options.channel,
  };
  return Object.freeze({
    ...sessionStatements(context),
    ...bookkeepingStatements(context),
    ...operatorStatements(context),
  });
}

export type Statements = ReturnType<typeof buildStatements>;
export type StatementKind = keyof Statements;
/** The parameter names of one of the store's statements. */
export type ParamOf<K extends StatementKind> =
  Statements[K] extends SqlStatement<infer P, unknown> ? P : never;
/** The rows one of the store's statements returns. */
export type RowOf<K extends StatementKind> =
  Statements[K] extends SqlStatement<string, infer Row> ? Row : never;
