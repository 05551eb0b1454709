import { ErrorCodes, SessionPgsqlError } from '../errors.js';

/** A table name split into its parts and quoted for SQL. */
export interface TableName {
  readonly schema: string | undefined;
  readonly name: string;
  /** `"schema"."table"` or `"table"`, safe to put in SQL. */
  readonly quoted: string;
  /** The same name for messages and `to_regclass`. */
  readonly display: string;
}

/** Quotes an identifier: wraps it in double quotes and doubles the ones inside. */
export function quoteIdentifier(identifier: string): string {
  return `"${identifier.replaceAll('"', '""')}"`;
}

/**
 * Parses `table`, `schema.table`, or quoted parts such as `"my.schema"."Sessions"`.
 * Unquoted parts are taken as written (no case folding), then quoted.
 */
export function parseTableName(input: string): TableName {
  const parts: string[] = [];
  const re = /"((?:[^"]|"")+)"|([^".][^.]*)/y;
  let index = 0;
  while (index < input.length) {
    re.lastIndex = index;
    const match = re.exec(input);
    if (!match) break;
    parts.push(match[1] !== undefined ? match[1].replaceAll('""', '"') : (match[2] as string));
    index = re.lastIndex;
    if (index === input.length) break;
    if (input[index] !== '.') {
      parts.length = 0;
      break;
    }
    index += 1;
  }
  if (
    parts.length < 1 ||
    parts.length > 2 ||
    index !== input.length ||
    input.endsWith('.') ||
    parts.some((p) => Buffer.byteLength(p) > 63)
  ) {
    throw new SessionPgsqlError(
      ErrorCodes.INVALID_OPTION,
      `option "table" must be "table" or "schema.table" (each part at most 63 bytes), got ${JSON.stringify(input)}`,
    );
  }
  const [first, second] = parts as [string, string | undefined];
  const schema = second === undefined ? undefined : first;
  const name = second ?? first;
  const quoted =
    schema === undefined
      ? quoteIdentifier(name)
      : `${quoteIdentifier(schema)}.${quoteIdentifier(name)}`;
  return Object.freeze({ schema, name, quoted, display: quoted });
}
