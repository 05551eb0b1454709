import { ErrorCodes, SessionPgsqlError } from '../errors.js';

/** How the command line ends: documented in the README's "Command line" section. */
export const ExitCodes = {
  /** The command did what it was asked. */
  OK: 0,
  /** It failed: PostgreSQL refused a statement, the table is missing or needs an upgrade... */
  FAILURE: 1,
  /** The command line itself is wrong: unknown command or flag, bad value, no database. */
  USAGE: 2,
  /** A PostgreSQL server could not be reached (`status`: at least one server is down). */
  UNREACHABLE: 3,
} as const;

export type ExitCode = (typeof ExitCodes)[keyof typeof ExitCodes];

/** The exit code of an error a command threw. */
export function exitCodeOf(error: unknown): ExitCode {
  if (!(error instanceof SessionPgsqlError)) return ExitCodes.FAILURE;
  if (error.code === ErrorCodes.INVALID_OPTION) return ExitCodes.USAGE;
  if (error.code === ErrorCodes.DB_UNREACHABLE) return ExitCodes.UNREACHABLE;
  return ExitCodes.FAILURE;
}
