import type { EventEmitter } from 'node:events';
import { SessionPgsqlError } from '../errors.js';

/** The store calls that an `'operation'` event reports. */
export type OperationName = 'read' | 'write' | 'touch' | 'destroy';

/**
 * `ok`: done; `skipped`: a write or touch the short circuit answered without a statement;
 * `error`: the call rejected (`code` says why).
 */
export type OperationOutcome = 'ok' | 'skipped' | 'error';

/** One store call, for metrics and dashboards. Never holds a session id or data. */
export interface OperationEvent {
  readonly operation: OperationName;
  readonly outcome: OperationOutcome;
  readonly durationMillis: number;
  /** Position in `db` of the server that answered, when known. */
  readonly server: number | undefined;
  /** The error's code (`SPG_...`) when `outcome` is `error`. */
  readonly code?: string;
}

/** A read from the LISTEN/NOTIFY cache: answered from memory (`hit`) or not. */
export interface CacheLookupEvent {
  readonly hit: boolean;
}

/**
 * What a store call found out on its way, for its event: filled in only while someone
 * listens (the store passes `undefined` otherwise).
 */
export interface OperationNote {
  /** The short circuit answered without a statement. */
  skipped: boolean;
  /** Position in `db` of the server the call went to. */
  server: number | undefined;
}

/**
 * Runs a store call and, only when someone listens to `'operation'`, reports it: with no
 * listener the call runs as is (no clock read, no allocation).
 */
export async function observed<T>(
  events: EventEmitter,
  operation: OperationName,
  run: (note: OperationNote | undefined) => Promise<T>,
): Promise<T> {
  if (events.listenerCount('operation') === 0) return run(undefined);
  const startedAt = performance.now();
  const note: OperationNote = { skipped: false, server: undefined };
  const report = (outcome: OperationOutcome, code?: string) => {
    const durationMillis = performance.now() - startedAt;
    const event: OperationEvent = { operation, outcome, durationMillis, server: note.server };
    events.emit('operation', Object.freeze(code === undefined ? event : { ...event, code }));
  };
  try {
    const result = await run(note);
    report(note.skipped ? 'skipped' : 'ok');
    return result;
  } catch (error) {
    report('error', error instanceof SessionPgsqlError ? error.code : 'UNKNOWN');
    throw error;
  }
}
