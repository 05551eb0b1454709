import { SessionPgsqlError } from '../errors.js';

export type { Logger } from '../options/logger-option.js';

/**
 * An error as log fields: its message and code, its cause's too. The store's messages
 * never hold a session id or data (a statement's parameters are not in them), so these
 * can be logged; the stack and the error object itself (which may carry a query) are not.
 */
export function errorFields(error: unknown): Record<string, unknown> {
  if (!(error instanceof Error)) return { message: String(error) };
  const fields: Record<string, unknown> = { message: error.message };
  const code = error instanceof SessionPgsqlError ? error.code : (error as { code?: unknown }).code;
  if (typeof code === 'string') fields.code = code;
  if (error.cause !== undefined) fields.cause = errorFields(error.cause);
  return fields;
}
