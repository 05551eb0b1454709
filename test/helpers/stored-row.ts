import { createHash } from 'node:crypto';

/** What `sess_id` holds for `id` with `hashIds` (the default): its SHA-256 digest, base64url. */
export function storedKey(id: string): string {
  return createHash('sha256').update(id).digest('base64url');
}

/** A session row as stored (times as numbers of Unix seconds). */
export interface StoredRow {
  sess_id: string;
  sess_name: string | null;
  sess_data: string | null;
  sess_created: number;
  sess_modified: number;
  sess_expire: number;
  sess_addr_created: string | null;
  sess_addr_modified: string | null;
  sess_counter: number;
  sess_error: number;
  sess_warning: number;
  sess_notice: number;
  sess_err_message: string | null;
  sess_custom: string | null;
}
