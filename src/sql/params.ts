/** The columns every read and write returns: a session's metadata. */
export const SESSION_COLUMNS = `sess_name, sess_created, sess_modified, sess_expire, sess_addr_created,
  sess_addr_modified, sess_counter, sess_error, sess_warning, sess_notice, sess_err_message, sess_custom`;

/**
 * What a write stores: the session's key, name (`sess_name`), serialized data, lifetime
 * (seconds), client address, error/warning/notice counters to add, message (null keeps the
 * stored one), whether the custom field was set, and its value.
 */
export const WRITE_PARAMS = [
  'key',
  'name',
  'data',
  'lifetime',
  'address',
  'error',
  'warning',
  'notice',
  'message',
  'customSet',
  'custom',
] as const;

/** A touch's parameters: key, lifetime (s), no write while the expiry is within `skip` (s), address. */
export const TOUCH_PARAMS = ['key', 'lifetime', 'skip', 'address'] as const;

/** The columns compared to tell that nobody changed a row since it was read. */
export const VERSION_PARAMS = [
  'seenModified',
  'seenName',
  'seenCounter',
  'seenExpire',
  'seenDataMd5',
] as const;

/** Every column of a row, as moved home after a failover. */
export const ROW_PARAMS = [
  'key',
  'data',
  'name',
  'created',
  'modified',
  'expire',
  'addrCreated',
  'addrModified',
  'counter',
  'error',
  'warning',
  'notice',
  'message',
  'custom',
] as const;

export type WriteParam = (typeof WRITE_PARAMS)[number];
export type TouchParam = (typeof TOUCH_PARAMS)[number];
export type VersionParam = (typeof VERSION_PARAMS)[number];
export type RowParam = (typeof ROW_PARAMS)[number];
