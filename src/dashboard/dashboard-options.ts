import { ErrorCodes, SessionPgsqlError } from '../errors.js';
import {
  boolean,
  integer,
  invalidOption,
  MAX_TIMER_MILLIS,
  type Option,
} from '../options/option.js';

export interface DashboardOptions {
  /**
   * Shows a revoke button per session and per user (the sessions' custom field), which
   * signs them out on every server. Default `false`: the dashboard only reads.
   */
  readonly allowRevoke?: boolean;
  /** How often the page asks for new numbers, in milliseconds. Default `5000`. */
  readonly pollIntervalMillis?: number;
  /** How often the store is sampled for the charts, in milliseconds. Default `10000`. */
  readonly sampleIntervalMillis?: number;
  /** Samples kept for the charts (the oldest are dropped). Default `360` (an hour at 10 s). */
  readonly historySamples?: number;
  /** Sessions listed with a revoke button (with `allowRevoke`), the newest first. Default `50`. */
  readonly sessionListLimit?: number;
  /** Shown as the page's title. Default `'session-pgsql'`. */
  readonly title?: string;
}

export type ResolvedDashboardOptions = {
  readonly [K in keyof DashboardOptions]-?: NonNullable<DashboardOptions[K]>;
};

const millis = (fallback: number) =>
  integer(fallback, { min: 100, max: MAX_TIMER_MILLIS, unit: 'milliseconds' });

const text = (fallback: string): Option<string, string> => ({
  defaultText: `\`'${fallback}'\``,
  valuesText: 'string of 1 to 200 characters',
  resolve: (value, name) => {
    if (value === undefined) return fallback;
    return typeof value === 'string' && value.length > 0 && value.length <= 200
      ? value
      : invalidOption(name, 'a string of 1 to 200 characters', value);
  },
});

/** Every dashboard option: how it is read, its default and what it accepts (the README's table). */
export const dashboardOptionTable = {
  allowRevoke: boolean(false),
  pollIntervalMillis: millis(5000),
  sampleIntervalMillis: millis(10_000),
  historySamples: integer(360, { min: 2, max: 100_000 }),
  sessionListLimit: integer(50, { min: 1, max: 10_000 }),
  title: text('session-pgsql'),
} satisfies { readonly [K in keyof DashboardOptions]-?: Option<never, unknown> };

/** Validates the dashboard's options once; the result is frozen. */
export function resolveDashboardOptions(options: DashboardOptions = {}): ResolvedDashboardOptions {
  const given = options as Readonly<Record<string, unknown>>;
  for (const key of Object.keys(given)) {
    if (!(key in dashboardOptionTable)) {
      throw new SessionPgsqlError(ErrorCodes.INVALID_OPTION, `unknown dashboard option "${key}"`);
    }
  }
  const resolved: Record<string, unknown> = {};
  for (const [name, option] of Object.entries(dashboardOptionTable)) {
    resolved[name] = (option as Option<unknown, unknown>).resolve(given[name], name, given);
  }
  return Object.freeze(resolved) as ResolvedDashboardOptions;
}
