import { ErrorCodes, SessionPgsqlError } from '../errors.js';
import type { MetadataRow } from '../sql/rows.js';

export type ErrorLevel = 'error' | 'warning' | 'notice';

/** A session's row, as session_pgsql's `session_pgsql_info()` returned it. */
export interface SessionInfo {
  readonly id: string;
  /** The server holding the session: its position in the `db` list and its connection (password hidden). */
  readonly server: { readonly index: number; readonly connection: string };
  readonly accesses: number;
  readonly errors: number;
  readonly warnings: number;
  readonly notices: number;
  readonly errorMessage: string | null;
  readonly created: Date | null;
  readonly modified: Date | null;
  readonly expires: Date | null;
  readonly createdAddress: string | null;
  readonly modifiedAddress: string | null;
  readonly custom: string | null;
}

export interface ErrorCounters {
  readonly error: number;
  readonly warning: number;
  readonly notice: number;
  readonly message?: string | null;
}

/** What was read, used to skip writes that would change nothing. */
export interface Snapshot {
  /** The stored text, or null when the row had expired under keepExpired. */
  readonly raw: string | null;
  /** Its digest as the database computed it (`sess_md5`): what compare-and-set compares. */
  readonly md5: string | null;
  readonly expired: boolean;
  /** Stored expiry, Unix seconds. */
  readonly expireSeconds: number;
  /** The database's clock when read, Unix seconds, and our monotonic clock at that moment. */
  readonly dbNowSeconds: number;
  readonly readAtMillis: number;
}

/** The snapshot of a row just read (`expired`) or written, with the database's clock then. */
export function snapshotOf(
  raw: string | null,
  row: MetadataRow,
  dbNowSeconds: number,
  expired: boolean,
): Snapshot {
  return Object.freeze({
    raw,
    md5: raw === null ? null : row.sess_md5,
    expired,
    expireSeconds: row.sess_expire ?? 0,
    dbNowSeconds,
    readAtMillis: performance.now(),
  });
}

/** PostgreSQL's text cannot hold NUL: refused when given, not when the write fails later. */
function refuseNul(method: string, value: string | null | undefined): void {
  if (value?.includes('\0')) {
    throw new SessionPgsqlError(
      ErrorCodes.INVALID_OPTION,
      `${method} takes text without NUL characters (PostgreSQL text cannot hold them)`,
    );
  }
}

const toDate = (seconds: number | null): Date | null =>
  seconds === null ? null : new Date(seconds * 1000);

/**
 * One session during one request: its stored metadata, and the changes the
 * application made to it (custom field, error counters) that force a write.
 */
export class SessionState {
  readonly id: string;
  readonly server: { readonly index: number; readonly connection: string };
  #row: MetadataRow | undefined;
  #snapshot: Snapshot | undefined;
  #custom: { value: string | null } | undefined;
  #added = { error: 0, warning: 0, notice: 0 };
  #message: string | null = null;

  constructor(
    id: string,
    server: { index: number; connection: string },
    row?: MetadataRow,
    snapshot?: Snapshot,
  ) {
    this.id = id;
    this.server = Object.freeze({ index: server.index, connection: server.connection });
    this.#row = row;
    this.#snapshot = snapshot;
  }

  /** @internal What was last read or written. */
  get snapshot(): Snapshot | undefined {
    return this.#snapshot;
  }

  /** Milliseconds until the stored expiry, by the database's clock; `undefined` for a new session. */
  remainingMillis(): number | undefined {
    const s = this.#snapshot;
    if (!s) return undefined;
    return (s.expireSeconds - s.dbNowSeconds) * 1000 - (performance.now() - s.readAtMillis);
  }

  /** True when the application changed metadata that must be written. */
  get dirty(): boolean {
    return (
      this.#custom !== undefined || this.#added.error + this.#added.warning + this.#added.notice > 0
    );
  }

  /** @internal The pending changes, as statement parameters. */
  get changes(): {
    error: number;
    warning: number;
    notice: number;
    message: string | null;
    customSet: boolean;
    custom: string | null;
  } {
    return {
      ...this.#added,
      message: this.#message,
      customSet: this.#custom !== undefined,
      // setField(null) clears the field: only an unset field keeps the stored value
      custom: this.#custom ? this.#custom.value : (this.#row?.sess_custom ?? null),
    };
  }

  /** @internal Records a successful write: the changes are now stored. */
  written(row: MetadataRow, snapshot: Snapshot): void {
    this.#row = row;
    this.#snapshot = snapshot;
    this.#custom = undefined;
    this.#added = { error: 0, warning: 0, notice: 0 };
    this.#message = null;
  }

  info(): SessionInfo {
    const row = this.#row;
    const pending = this.#added;
    return Object.freeze({
      id: this.id,
      server: this.server,
      accesses: row?.sess_counter ?? 0,
      errors: (row?.sess_error ?? 0) + pending.error,
      warnings: (row?.sess_warning ?? 0) + pending.warning,
      notices: (row?.sess_notice ?? 0) + pending.notice,
      errorMessage: this.#message ?? row?.sess_err_message ?? null,
      created: toDate(row?.sess_created ?? null),
      modified: toDate(row?.sess_modified ?? null),
      expires: toDate(row?.sess_expire ?? null),
      createdAddress: row?.sess_addr_created ?? null,
      modifiedAddress: row?.sess_addr_modified ?? null,
      custom: this.getField(),
    });
  }

  /** The free application field (`sess_custom`). */
  getField(): string | null {
    return this.#custom ? this.#custom.value : (this.#row?.sess_custom ?? null);
  }

  /** Sets the free application field; forces a write at the end of the request. */
  setField(value: string | null): void {
    if (value !== null && typeof value !== 'string') {
      throw new SessionPgsqlError(ErrorCodes.INVALID_OPTION, 'setField takes a string or null');
    }
    refuseNul('setField', value);
    this.#custom = { value };
  }

  /** Raises the error, warning or notice counter; forces a write. The message goes to `sess_err_message`. */
  addError(level: ErrorLevel, message?: string): void {
    if (level !== 'error' && level !== 'warning' && level !== 'notice') {
      throw new SessionPgsqlError(
        ErrorCodes.INVALID_ERROR_LEVEL,
        `error level must be error, warning or notice, got ${JSON.stringify(level)}`,
      );
    }
    const text = message === undefined ? undefined : String(message);
    refuseNul('addError', text);
    this.#added[level] += 1;
    if (text !== undefined) this.#message = text;
  }

  /** The three counters, and the last message when asked. */
  getError(withMessage = false): ErrorCounters {
    const info = this.info();
    const counters = { error: info.errors, warning: info.warnings, notice: info.notices };
    return Object.freeze(withMessage ? { ...counters, message: info.errorMessage } : counters);
  }
}
