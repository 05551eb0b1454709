/**
 * The options of `sessionMiddleware` (session-pgsql/hono), each described once: its
 * default and accepted values (as the README's table under "Usage with Hono" states them),
 * and how it is checked. They are validated when the middleware is made, and frozen.
 */
import type { Context } from 'hono';
import type { ConnInfo } from 'hono/conninfo';
import { ErrorCodes, SessionPgsqlError } from '../errors.js';
import { boolean, custom, integer, invalidOption, type Option, text } from '../options/option.js';
import type { SessionPgsqlOptions } from '../options/options.js';
import { SessionPgsql } from '../store/store.js';

/** What the middleware stores: an object of the session's fields. */
export type StoredSession = Record<string, unknown>;

/** The attributes of the session cookie (hono/cookie's). */
export interface HonoCookieOptions {
  /** Sent over HTTPS only. Default `true`; `false` for plain-HTTP development. */
  readonly secure?: boolean | undefined;
  /** Hidden from the page's JavaScript. Default `true`. */
  readonly httpOnly?: boolean | undefined;
  /** Default `'Lax'`. `'None'` needs `secure`. */
  readonly sameSite?: 'Strict' | 'Lax' | 'None' | undefined;
  /** Default `'/'`. */
  readonly path?: string | undefined;
  /** Default: none (the host that set it). */
  readonly domain?: string | undefined;
  /** CHIPS (`Partitioned`); needs `secure`. Default `false`. */
  readonly partitioned?: boolean | undefined;
  /** The `__Secure-` or `__Host-` name prefix (hono/cookie's `prefix`). Default: none. */
  readonly prefix?: 'secure' | 'host' | undefined;
}

/** How the client's address is found: hono/conninfo's `getConnInfo` of your runtime. */
export type GetConnInfo = (c: Context) => ConnInfo;

export interface HonoSessionOptions {
  /** The store: a `SessionPgsql` (to share it, with other adapters too), or its options. */
  readonly store: SessionPgsql<unknown> | SessionPgsqlOptions<StoredSession>;
  /**
   * The key the session cookie is signed with (HMAC-SHA256, hono/cookie's signed cookies),
   * at least 32 characters. A list rotates keys: the first signs, every one verifies.
   */
  readonly secret: string | readonly string[];
  /** The session cookie's name. Default `'sid'`. */
  readonly cookieName?: string | undefined;
  readonly cookie?: HonoCookieOptions | undefined;
  /** Lifetime of a session in seconds: the cookie's Max-Age and the row's expiry. Default: the store's `ttl`. */
  readonly ttl?: number | undefined;
  /** Every response extends the session (a touch, free under `shortCircuit`) and re-sends its cookie. Default `false`. */
  readonly rolling?: boolean | undefined;
  /** Store new sessions that nothing was put in. Default `false`. */
  readonly saveUninitialized?: boolean | undefined;
  /** Take the client's address from the left-most `X-Forwarded-For` entry. Default `false`. */
  readonly trustProxy?: boolean | undefined;
  /** The client's address. Default: @hono/node-server's `getConnInfo` when it is installed. */
  readonly getConnInfo?: GetConnInfo | undefined;
}

/** The cookie's attributes after validation. */
export interface ResolvedCookie {
  readonly secure: boolean;
  readonly httpOnly: boolean;
  readonly sameSite: 'Strict' | 'Lax' | 'None';
  readonly path: string;
  readonly domain: string | undefined;
  readonly partitioned: boolean;
  readonly prefix: 'secure' | 'host' | undefined;
}

/** The options after validation, frozen. */
export interface ResolvedHonoOptions {
  readonly store: SessionPgsql<StoredSession>;
  readonly secrets: readonly string[];
  readonly cookieName: string;
  readonly cookie: ResolvedCookie;
  readonly ttlSeconds: number;
  readonly rolling: boolean;
  readonly saveUninitialized: boolean;
  readonly trustProxy: boolean;
  readonly getConnInfo: GetConnInfo | undefined;
}

/** Browsers refuse a cookie's Max-Age past 400 days (and hono/cookie throws). */
const MAX_COOKIE_SECONDS = 400 * 86_400;
const MIN_SECRET_LENGTH = 32;

const oneOf = <T extends string>(fallback: T | undefined, values: readonly T[]) =>
  custom<T, T | undefined>(
    {
      defaultText: fallback === undefined ? 'none' : `\`'${fallback}'\``,
      valuesText: values.map((value) => `\`'${value}'\``).join(', '),
    },
    (value, name) => {
      if (value === undefined) return fallback;
      return values.includes(value) ? value : invalidOption(name, `one of ${values}`, value);
    },
  );

/** The cookie's attributes, one entry each. */
export const COOKIE_OPTIONS = {
  secure: boolean(true),
  httpOnly: boolean(true),
  sameSite: oneOf<'Strict' | 'Lax' | 'None'>('Lax', ['Strict', 'Lax', 'None']),
  path: text('/'),
  domain: text(undefined, 'none'),
  partitioned: boolean(false),
  prefix: oneOf<'secure' | 'host'>(undefined, ['secure', 'host']),
} satisfies Record<keyof HonoCookieOptions, Option<never, unknown>>;

/** The middleware's options, one entry each (`cookie` is the table above). */
export const HONO_OPTIONS = {
  store: custom<HonoSessionOptions['store'], SessionPgsql<StoredSession>>(
    { defaultText: 'required', valuesText: 'a `SessionPgsql`, or its options' },
    (value, name) => {
      // the middleware stores objects of fields: what any serializer of the store takes
      if (value instanceof SessionPgsql) return value as SessionPgsql<StoredSession>;
      if (typeof value === 'object' && value !== null) {
        return new SessionPgsql<StoredSession>(value as SessionPgsqlOptions<StoredSession>);
      }
      return invalidOption(name, 'a SessionPgsql or its options', value);
    },
  ),
  secret: custom<HonoSessionOptions['secret'], readonly string[]>(
    {
      defaultText: 'required',
      valuesText: `string of ${MIN_SECRET_LENGTH} characters or more, or a non-empty list of them`,
    },
    (value, name) => {
      const secrets = typeof value === 'string' ? [value] : value;
      const valid =
        Array.isArray(secrets) &&
        secrets.length > 0 &&
        secrets.every((s) => typeof s === 'string' && s.length >= MIN_SECRET_LENGTH);
      if (!valid) {
        // the secret itself is never shown
        throw new SessionPgsqlError(
          ErrorCodes.INVALID_OPTION,
          `option "${name}" must be a string of at least ${MIN_SECRET_LENGTH} characters, or a non-empty list of them`,
        );
      }
      return Object.freeze([...secrets]);
    },
  ),
  cookieName: text('sid'),
  // absent: the store's ttl (resolveHonoOptions)
  ttl: integer(0, { min: 1, max: MAX_COOKIE_SECONDS, unit: 'seconds' }, "the store's `ttl`"),
  rolling: boolean(false),
  saveUninitialized: boolean(false),
  trustProxy: boolean(false),
  getConnInfo: custom<GetConnInfo, GetConnInfo | undefined>(
    {
      defaultText: "@hono/node-server's `getConnInfo`, when installed",
      valuesText: '`(c) => ConnInfo`',
    },
    (value, name) =>
      value === undefined || typeof value === 'function'
        ? value
        : invalidOption(name, 'a function', value),
  ),
} satisfies Record<Exclude<keyof HonoSessionOptions, 'cookie'>, Option<never, unknown>>;

function resolveTable<T extends Record<string, Option<never, unknown>>>(
  table: T,
  given: Readonly<Record<string, unknown>>,
  prefix: string,
): { [K in keyof T]: ReturnType<T[K]['resolve']> } {
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(table, name)) {
      throw new SessionPgsqlError(ErrorCodes.INVALID_OPTION, `unknown option "${prefix}${name}"`);
    }
  }
  const resolved: Record<string, unknown> = {};
  for (const [name, option] of Object.entries(table)) {
    const value = given[name] as never;
    resolved[name] = option.resolve(value, `${prefix}${name}`, given);
  }
  return resolved as { [K in keyof T]: ReturnType<T[K]['resolve']> };
}

/** Validates the middleware's options once; throws `SPG_INVALID_OPTION` naming the option. */
export function resolveHonoOptions(options: HonoSessionOptions): ResolvedHonoOptions {
  if (typeof options !== 'object' || options === null) {
    invalidOption('options', 'an object with store and secret', options);
  }
  const { cookie = {}, ...rest } = options;
  if (typeof cookie !== 'object' || cookie === null) invalidOption('cookie', 'an object', cookie);
  const resolvedCookie = resolveTable(COOKIE_OPTIONS, { ...cookie }, 'cookie.');
  const needsSecure =
    resolvedCookie.sameSite === 'None' ||
    resolvedCookie.partitioned ||
    resolvedCookie.prefix !== undefined;
  if (needsSecure && !resolvedCookie.secure) {
    invalidOption('cookie.secure', "true with sameSite 'None', partitioned or a prefix", false);
  }
  if (resolvedCookie.prefix === 'host' && (resolvedCookie.path !== '/' || resolvedCookie.domain)) {
    invalidOption('cookie.prefix', "'host' only with path '/' and no domain", 'host');
  }
  const resolved = resolveTable(HONO_OPTIONS, rest, '');
  // the store's ttl when no ttl is given: it must fit in a cookie too
  if (rest.ttl === undefined && resolved.store.options.ttlSeconds > MAX_COOKIE_SECONDS) {
    invalidOption('ttl', `given when the store's ttl is over ${MAX_COOKIE_SECONDS}`, undefined);
  }
  return Object.freeze({
    store: resolved.store,
    secrets: resolved.secret,
    cookieName: resolved.cookieName,
    cookie: Object.freeze({
      ...resolvedCookie,
      sameSite: resolvedCookie.sameSite ?? 'Lax',
    }),
    ttlSeconds: rest.ttl === undefined ? resolved.store.options.ttlSeconds : resolved.ttl,
    rolling: resolved.rolling,
    saveUninitialized: resolved.saveUninitialized,
    trustProxy: resolved.trustProxy,
    getConnInfo: resolved.getConnInfo,
  });
}
