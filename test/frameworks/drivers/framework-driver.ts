/**
 * What a shared suite of test/frameworks needs of a framework: start its test app (the
 * routes of test/helpers/*-app.ts) with a store and the session library's settings, and
 * read the error code of an error answer.
 */
import type { SessionPgsqlOptions } from '../../../src/index.js';
import type { Client, Reply } from '../../helpers/cookie-client.js';
import type { StoreWithCore } from '../../helpers/session-sql.js';

/** Options of the store; `db` is required, `gcInterval` defaults to 0. */
export type StoreOptions = Omit<SessionPgsqlOptions, 'serializer' | 'db'> & {
  db: NonNullable<SessionPgsqlOptions['db']>;
};

/**
 * Who answers an error: the app's handler (a 500 with `{ code, message }`), or the
 * framework's own error handling (Koa's: a 500 with its status text).
 */
export type ErrorHandling = 'app' | 'framework';

/** The session library's settings, in the same terms for every framework. */
export interface SessionSettings {
  /** The session's lifetime in seconds (a cookie maxAge, koa-session's maxAge, Hono's ttl). */
  lifetime?: number;
  /** Store a new session that stays empty. Default: the library's. */
  saveUninitialized?: boolean;
  /** Default `app`; `framework` only where `errorHandlings` has it. */
  errorHandling?: ErrorHandling;
}

export interface FrameworkApp {
  readonly url: string;
  /** The store, with its core: what it ran (statementCounts, storeWrites). */
  readonly store: StoreWithCore;
  /** Every error that reached the app's (or the framework's) error handler, in order. */
  readonly errors: unknown[];
  /** A new client with an empty cookie jar. */
  client(): Client;
  /** The `code` of the error an error answer is for. */
  errorCode(reply: Reply<unknown>): unknown;
  close(): Promise<void>;
}

export interface FrameworkDriver {
  /** The framework, as the suites' describe() names it. */
  readonly name: string;
  /** Who can answer errors in this framework's app (the suites run each). */
  readonly errorHandlings: readonly ErrorHandling[];
  /**
   * The session is saved before the response goes out, so a failed save is the answer
   * (express-session saves as the response ends, after its headers: not without the
   * saveBeforeResponse() guard, which its own tests cover).
   */
  readonly savesBeforeResponse: boolean;
  /**
   * The error answer of a failed save has none of the headers of the answer it replaces
   * (a redirect's Location). Not Fastify's: the headers set before onSend stay.
   */
  readonly errorDropsHeaders: boolean;
  /** The Set-Cookie of a destroyed session (a cleared cookie), where the library sends one. */
  readonly clearedCookie?: RegExp;
  /**
   * The app's own fields of a session as stored, after checking what the session library
   * keeps beside them for a session of `lifetime` seconds (and that it stores no expiry).
   */
  storedFields(stored: Record<string, unknown>, lifetime: number): Record<string, unknown>;
  start(store: StoreOptions, session?: SessionSettings): Promise<FrameworkApp>;
}
