import { ErrorCodes, SessionPgsqlError } from '../errors.js';

/**
 * One option of the store: how to read a value given by the user (or its absence) into
 * the value the store runs with. Every check lives here, so that each option is
 * described once, in the table of `options.ts`.
 */
export interface Option<Input, Resolved> {
  /** Reads the given value (`undefined` when absent); `given` is the whole options object. */
  readonly resolve: (
    value: Input | undefined,
    name: string,
    given: Readonly<Record<string, unknown>>,
  ) => Resolved;
  /** The default, as the README's option table states it. */
  readonly defaultText: string;
  /** The values accepted, as the README's option table states them. */
  readonly valuesText: string;
}

/** Longest delay Node's timers take: a longer one fires at once. */
export const MAX_TIMER_MILLIS = 2 ** 31 - 1;

export function invalidOption(name: string, expected: string, value: unknown): never {
  const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
  throw new SessionPgsqlError(
    ErrorCodes.INVALID_OPTION,
    `option "${name}" must be ${expected}, got ${shown}`,
  );
}

const code = (value: unknown) => `\`${String(value)}\``;

export function boolean(fallback: boolean): Option<boolean, boolean> {
  return {
    defaultText: code(fallback),
    valuesText: 'boolean',
    resolve: (value, name) => {
      if (value === undefined) return fallback;
      return typeof value === 'boolean' ? value : invalidOption(name, 'a boolean', value);
    },
  };
}

export interface IntegerBounds {
  readonly min: number;
  readonly max: number;
  /** Shown in messages: `milliseconds`, `seconds`, `bytes`... */
  readonly unit?: string;
}

/** A whole number within bounds; `fallback` may depend on the other options. */
export function integer(
  fallback: number | ((given: Readonly<Record<string, unknown>>) => number),
  bounds: IntegerBounds,
  defaultText = code(fallback),
): Option<number, number> {
  const range = `integer from ${bounds.min} to ${bounds.max}${bounds.unit ? ` (${bounds.unit})` : ''}`;
  return {
    defaultText,
    valuesText: range,
    resolve: (value, name, given) => {
      if (value === undefined) return typeof fallback === 'function' ? fallback(given) : fallback;
      return Number.isInteger(value) && value >= bounds.min && value <= bounds.max
        ? value
        : invalidOption(name, `an ${range}`, value);
    },
  };
}

/** A number with `min <= n < maxExclusive`. */
export function fraction(
  fallback: number,
  min: number,
  maxExclusive: number,
): Option<number, number> {
  return {
    defaultText: code(fallback),
    valuesText: `number from ${min} up to (not including) ${maxExclusive}`,
    resolve: (value, name) => {
      if (value === undefined) return fallback;
      return typeof value === 'number' && value >= min && value < maxExclusive
        ? value
        : invalidOption(name, `a number from ${min} up to (not including) ${maxExclusive}`, value);
    },
  };
}

/** A non-empty string without NUL characters. */
export function text(fallback: string): Option<string, string>;
export function text(fallback: undefined, defaultText: string): Option<string, string | undefined>;
export function text(
  fallback: string | undefined,
  defaultText = code(fallback),
): Option<string, string | undefined> {
  return {
    defaultText,
    valuesText: 'non-empty string',
    resolve: (value, name) => {
      if (value === undefined) return fallback;
      return typeof value === 'string' && value.length > 0 && !value.includes('\0')
        ? value
        : invalidOption(name, 'a non-empty string', value);
    },
  };
}

/** An option whose checks are its own. */
export function custom<Input, Resolved>(
  texts: { readonly defaultText: string; readonly valuesText: string },
  resolve: Option<Input, Resolved>['resolve'],
): Option<Input, Resolved> {
  return { ...texts, resolve };
}
