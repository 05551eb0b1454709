/**
 * session_pgsql's metadata functions (session_pgsql_info, _get_field, _set_field,
 * _add_error, _get_error) for one framework: each adapter says how it finds the
 * `SessionState` of a request (or context), and exports what this returns.
 */
import type {
  ErrorCounters,
  ErrorLevel,
  SessionInfo,
  SessionState,
} from '../store/session-state.js';

export interface MetadataHelpers<Request> {
  /** The session's row: id, server, accesses, counters, times and addresses (session_pgsql_info). */
  readonly sessionInfo: (request: Request) => SessionInfo;
  /** The free application field (session_pgsql_get_field). */
  readonly getField: (request: Request) => string | null;
  /** Sets the free application field; it is written when the session is saved (session_pgsql_set_field). */
  readonly setField: (request: Request, value: string | null) => void;
  /** Raises the error, warning or notice counter, with an optional message (session_pgsql_add_error). */
  readonly addError: (request: Request, level: ErrorLevel, message?: string) => void;
  /** The error, warning and notice counters, and the last message when asked (session_pgsql_get_error). */
  readonly getError: (request: Request, withMessage?: boolean) => ErrorCounters;
}

/** The metadata helpers over `stateOf`, which throws `SPG_NO_SESSION` for a request without a session of the store. */
export function metadataHelpers<Request>(
  stateOf: (request: Request) => SessionState,
): MetadataHelpers<Request> {
  return Object.freeze({
    sessionInfo: (request: Request) => stateOf(request).info(),
    getField: (request: Request) => stateOf(request).getField(),
    setField: (request: Request, value: string | null) => stateOf(request).setField(value),
    addError: (request: Request, level: ErrorLevel, message?: string) =>
      stateOf(request).addError(level, message),
    getError: (request: Request, withMessage = false) => stateOf(request).getError(withMessage),
  });
}
