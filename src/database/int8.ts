/** PostgreSQL's type id of `bigint` (int8). */
export const INT8_OID = 20;

/**
 * A `bigint` as text (how drivers send it) to a number: every 64-bit column of the store
 * (Unix times in seconds) fits in a double exactly. Both drivers are given this parser, so
 * that rows look the same whatever reads them.
 */
export const parseInt8 = (text: string): number => Number(text);
