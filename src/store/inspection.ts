import { SessionPgsqlError } from '../errors.js';
import type { SessionRouting } from '../routing/session-routing.js';
import type { Server } from '../server/server.js';
import type { InspectRow } from '../sql/operator-statements.js';
import type { SessionCodec } from './session-codec.js';

/** One session's metadata, as `inspect()` returns it (times by the database's clock). */
export interface InspectedMetadata {
  /** The stored key (`sess_id`): the SHA-256 digest with `hashIds`, else the id. */
  readonly key: string;
  /** The server holding it: its position in `db` and its connection (password hidden). */
  readonly server: { readonly index: number; readonly connection: string };
  /** `sess_name` (the `name` option of the writer). */
  readonly name: string | null;
  readonly created: Date | null;
  readonly modified: Date | null;
  readonly expires: Date | null;
  /** Expired and not collected yet: reads no longer return it. */
  readonly expired: boolean;
  readonly accesses: number;
  readonly createdAddress: string | null;
  readonly modifiedAddress: string | null;
  readonly custom: string | null;
  readonly errors: number;
  readonly warnings: number;
  readonly notices: number;
  readonly errorMessage: string | null;
  /** Size of the stored data in bytes (`octet_length`, in the database's encoding). */
  readonly bytes: number;
}

/**
 * A session's metadata and its data, decoded with the configured serializer; a row that
 * does not decode gives its stored text and the decode error (`SPG_PARSE_FAILED`) instead.
 */
export type InspectedSession<Data = unknown> = InspectedMetadata &
  (
    | { readonly data: Data; readonly raw?: undefined; readonly decodeError?: undefined }
    | { readonly data?: undefined; readonly raw: string; readonly decodeError: SessionPgsqlError }
  );

const date = (seconds: number | null): Date | null =>
  seconds === null ? null : new Date(seconds * 1000);

/**
 * Looks one session up by its stored key: on its target server first, then on the others
 * of its order (a copy written during a failover). A server that cannot be reached is
 * skipped; when the session is found nowhere else, its failure is the answer.
 */
export async function inspectSession<Data>(
  routing: SessionRouting,
  codec: SessionCodec<Data>,
  key: string,
): Promise<InspectedSession<Data> | undefined> {
  const route = routing.route(key);
  const servers = [route.target, ...route.order.filter((s) => s !== route.target)];
  let failure: unknown;
  for (const server of servers) {
    try {
      const { rows } = await server.run('inspect', { key }, 'inspect a session');
      if (rows[0]) return inspected(server, rows[0], codec);
    } catch (error) {
      failure ??= error;
    }
  }
  if (failure) throw failure;
  return undefined;
}

function inspected<Data>(
  server: Server,
  row: InspectRow,
  codec: SessionCodec<Data>,
): InspectedSession<Data> {
  const metadata: InspectedMetadata = {
    key: row.sess_id,
    server: Object.freeze({ index: server.index, connection: server.connection }),
    name: row.sess_name,
    created: date(row.sess_created),
    modified: date(row.sess_modified),
    expires: date(row.sess_expire),
    expired: row.expired,
    accesses: row.sess_counter ?? 0,
    createdAddress: row.sess_addr_created,
    modifiedAddress: row.sess_addr_modified,
    custom: row.sess_custom,
    errors: row.sess_error ?? 0,
    warnings: row.sess_warning ?? 0,
    notices: row.sess_notice ?? 0,
    errorMessage: row.sess_err_message,
    bytes: row.bytes,
  };
  try {
    return Object.freeze({ ...metadata, data: codec.parse(row.sess_data) });
  } catch (error) {
    if (!(error instanceof SessionPgsqlError)) throw error;
    return Object.freeze({ ...metadata, raw: row.sess_data, decodeError: error });
  }
}
