import { custom, invalidOption } from './option.js';

/** One logging method of a pino-compatible logger: an object of fields, then a message. */
export type LogMethod = (fields: Readonly<Record<string, unknown>>, message: string) => void;

/** The part of a pino (or pino-compatible) logger the store uses. */
export interface Logger {
  debug: LogMethod;
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
}

const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** The `logger` option: a pino-compatible logger, or nothing (silent). */
export const loggerOption = custom<Logger, Logger | undefined>(
  {
    defaultText: 'none (silent)',
    valuesText: 'an object with `debug`, `info`, `warn` and `error` methods (pino, or compatible)',
  },
  (value, name) => {
    if (value === undefined) return undefined;
    const logger = value as unknown as Partial<Record<string, unknown>> | null;
    return typeof logger === 'object' &&
      logger !== null &&
      LEVELS.every((level) => typeof logger[level] === 'function')
      ? (value as Logger)
      : invalidOption(name, 'an object with debug, info, warn and error methods', value);
  },
);
