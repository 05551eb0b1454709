import { createHash } from 'node:crypto';
import type { Statement } from '../database/database.js';

/** A statement of the store's, with its parameters by name and the type of its rows. */
export interface SqlStatement<Param extends string = string, Row = unknown> extends Statement {
  /** Parameter names, in the order of `$1`, `$2`...: `bind` puts values in that order. */
  readonly params: readonly Param[];
  /** Never set: carries the type of the rows the statement returns. */
  readonly row?: Row;
}

/** States the type of a statement's rows: `sql(kind, params, build, rows<MyRow>())`. */
export const rows = <Row>(): Row | undefined => undefined;

/**
 * Builds a statement whose parameters are named: `build` gets `$1`, `$2`... by name, so
 * that SQL and values are tied by name, never by position.
 *
 * ```ts
 * sql('read', ['key'], (p) => `SELECT ... WHERE sess_id = ${p.key}::text`)
 * ```
 */
export function sql<const Param extends string, Row = never>(
  kind: string,
  params: readonly Param[],
  build: (p: Readonly<Record<Param, string>>) => string,
  _rows?: Row | undefined,
): SqlStatement<Param, Row> {
  const placeholders = Object.fromEntries(params.map((name, i) => [name, `$${i + 1}`])) as Record<
    Param,
    string
  >;
  const text = build(placeholders);
  const digest = createHash('sha1').update(text).digest('hex').slice(0, 10);
  return Object.freeze({
    name: `session_pgsql_${kind}_${digest}`,
    text,
    params: Object.freeze([...params]),
  });
}

/** The positional values of a statement, from values by name. */
export function bind<Param extends string>(
  statement: SqlStatement<Param, unknown>,
  values: Readonly<Record<Param, unknown>>,
): unknown[] {
  return statement.params.map((name) => values[name]);
}

/** The database's clock in Unix seconds: every expiry decision uses it. */
export const NOW = 'floor(extract(epoch from now()))::bigint';

/** What every statement builder needs: the quoted table, and how writes notify caches. */
export interface StatementContext {
  /** The table, quoted. */
  readonly t: string;
  readonly keepExpired: boolean;
  /** The notification channel when the cache is on with other processes; else none. */
  readonly channel: string | undefined;
  /** Keys are digests already (`hashIds`): notifications may carry them as they are. */
  readonly keysAreDigests: boolean;
}

/** A parameter list, with this process's `instance` id last when writes notify. */
export function notifying<const P extends string>(
  c: StatementContext,
  params: readonly P[],
): readonly (P | 'instance')[] {
  return c.channel ? [...params, 'instance'] : params;
}

/**
 * The notification of a change to `key`, as an extra output column (nothing without a
 * channel). Any role that may LISTEN can read notifications: they never carry a session id,
 * only its stored key when that is a digest (`hashIds`), or else its SHA-256 (see
 * `notifiedKey`).
 */
export function notify(c: StatementContext, p: { instance?: string }, key: string): string {
  if (!c.channel) return '';
  const shown = c.keysAreDigests ? key : `encode(sha256(convert_to(${key}, 'UTF8')), 'base64')`;
  return `, pg_notify('${c.channel}', ${p.instance}::text || ' ' || ${shown}) AS notified`;
}
