import type { Placement } from '../options/options.js';
import { Rendezvous } from './rendezvous.js';

export type { Placement } from '../options/options.js';

/** Server positions for a stored key, best first. */
export type ServerOrder = (key: string) => number[];

/**
 * The order of the servers for each key: the list's order in failover mode (or with one
 * server), else by `placement`. `ids` name the servers the same way in every process.
 */
export function serverOrder(
  ids: readonly string[],
  placement: Placement,
  failoverMode: boolean,
): ServerOrder {
  const inOrder = ids.map((_, index) => index);
  if (failoverMode || ids.length === 1) return () => [...inOrder];
  if (placement === 'session_pgsql') return (key) => sumOfBytesOrder(key, ids.length);
  const rendezvous = new Rendezvous(ids);
  return (key) => rendezvous.rank(key);
}

/**
 * session_pgsql's placement (`php_ps_pgsql_get_db`): the sum of the id's bytes, each read
 * as a C `char` (signed on the platforms it ran on; its ids were ASCII, where that makes no
 * difference), modulo the number of servers; when that server is down, the next ones in
 * the list, wrapping around.
 */
export function sumOfBytesOrder(key: string, count: number): number[] {
  let sum = 0;
  for (const byte of Buffer.from(key, 'utf8')) sum += byte < 128 ? byte : byte - 256;
  const home = ((sum % count) + count) % count;
  return Array.from({ length: count }, (_, i) => (home + i) % count);
}
