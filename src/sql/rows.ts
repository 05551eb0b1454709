/** The metadata columns of a row (times in Unix seconds, as numbers: see `Database`). */
export interface MetadataRow {
  readonly sess_created: number | null;
  readonly sess_modified: number | null;
  readonly sess_expire: number | null;
  readonly sess_addr_created: string | null;
  readonly sess_addr_modified: string | null;
  readonly sess_counter: number | null;
  readonly sess_error: number | null;
  readonly sess_warning: number | null;
  readonly sess_notice: number | null;
  readonly sess_err_message: string | null;
  readonly sess_custom: string | null;
  /**
   * md5 of `sess_data` as the database stores it (computed there, never in Node, so that it
   * does not depend on the database's encoding); null when the data is not visible.
   */
  readonly sess_md5: string | null;
}

/** A row as the read statements return it, with the database's clock (`now`). */
export interface SessionRow extends MetadataRow {
  readonly sess_name: string | null;
  readonly sess_data: string | null;
  readonly expired: boolean;
  readonly now: number;
}

/** A row of a statement over several sessions: the key tells them apart. */
export type Keyed<Row> = Row & { readonly sess_id: string };
