/**
 * A real Express app with express-session and PgsqlStore on port 0, a tiny cookie-jar HTTP
 * client (fetch), and SQL helpers to look at what the store really wrote in PostgreSQL.
 */
import { createHmac } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type Request } from 'express';
import session from 'express-session';
import pg from 'pg';
import {
  addError,
  type ErrorLevel,
  getError,
  getField,
  PgsqlStore,
  type SessionPgsqlOptions,
  sessionInfo,
  setField,
} from '../../src/adapters/express.js';
import type { SerializerName } from '../../src/index.js';
import { type StoredRow as SessionRow, storedKey } from './stored-row.js';

export { type StoredRow as SessionRow, storedKey } from './stored-row.js';

export const SECRET = 'express-app-test-secret';
export const COOKIE_NAME = 'connect.sid';

/** The statement kinds of `status().servers[].statements` that write to the table. */
const WRITE_KINDS = ['write', 'update', 'touch', 'destroy', 'clear', 'gcClaim', 'gcDelete'];

export interface AppOptions {
  /** Options of the PgsqlStore; `db` is required here, `gcInterval` defaults to 0 (no background GC). */
  store: Omit<SessionPgsqlOptions, 'serializer' | 'db'> & {
    db: NonNullable<SessionPgsqlOptions['db']>;
    /** A serializer by name (`'php'`...); default JSON. */
    serializer?: SerializerName;
  };
  /** express-session options besides store and secret. Default: resave false, saveUninitialized false. */
  session?: Omit<session.SessionOptions, 'store' | 'secret'>;
  /** Express's `trust proxy` setting. Default off. */
  trustProxy?: boolean;
}

export interface TestApp {
  readonly url: string;
  readonly store: PgsqlStore;
  /** Every error passed to Express's error handler, in order. */
  readonly errors: unknown[];
  /** A new client with an empty cookie jar. */
  client(): Client;
  /** Closes the HTTP server (and its keep-alive connections) and the store. */
  close(): Promise<void>;
}

/** What every session route answers: the session id and the session without its cookie. */
export interface SessionReply {
  id: string;
  data: Record<string, unknown>;
}

/** A session as seen by a route: its fields by name. */
const fields = (req: Request): Record<string, unknown> =>
  req.session as unknown as Record<string, unknown>;

function reply(req: Request): SessionReply {
  const { cookie: _cookie, ...data } = fields(req);
  return { id: req.sessionID, data };
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : undefined;

/**
 * Starts Express with express-session and a PgsqlStore on 127.0.0.1, port 0. Routes:
 * - `GET /session`: reads only. `POST /increment`: counter + 1. `POST /set?key=&value=`.
 * - `GET /cookie`: the session's cookie as express-session holds it (expires, maxAge).
 * - `POST /max-age?ms=`: sets this session's cookie.maxAge and `remember: true` ("remember me").
 * - `GET /info`, `GET /field`, `POST /field?value=`, `POST /error?level=&message=`,
 *   `GET /error?withMessage=1`: the metadata helpers (they do not modify the session data).
 * - `POST /logout`: destroys the session.
 * Errors answer 500 with `{ code, message }` (and are kept in `errors`).
 */
export async function startApp(options: AppOptions): Promise<TestApp> {
  const store = new PgsqlStore({ gcInterval: 0, poolSize: 4, ...options.store });
  await store.core.length(); // creates the table, so that tests can query it from the start
  const errors: unknown[] = [];
  const app = express();
  app.set('trust proxy', options.trustProxy ?? false);
  app.use(
    session({
      resave: false,
      saveUninitialized: false,
      ...options.session,
      store,
      secret: SECRET,
    }),
  );
  app.get('/session', (req, res) => {
    res.json(reply(req));
  });
  app.post('/increment', (req, res) => {
    const counter = fields(req).counter;
    fields(req).counter = (typeof counter === 'number' ? counter : 0) + 1;
    res.json(reply(req));
  });
  app.post('/set', (req, res) => {
    const key = text(req.query.key);
    if (key === undefined || key === 'cookie') throw new Error('POST /set needs ?key=');
    fields(req)[key] = text(req.query.value) ?? null;
    res.json(reply(req));
  });
  app.get('/cookie', (req, res) => {
    const { expires, maxAge, originalMaxAge } = req.session.cookie;
    res.json({ expires: expires ?? null, maxAge: maxAge ?? null, originalMaxAge });
  });
  app.post('/max-age', (req, res) => {
    req.session.cookie.maxAge = Number(req.query.ms);
    fields(req).remember = true; // a cookie change alone does not make the session modified
    res.json(reply(req));
  });
  app.get('/info', (req, res) => {
    res.json(sessionInfo(req));
  });
  app.get('/field', (req, res) => {
    res.json({ field: getField(req) });
  });
  app.post('/field', (req, res) => {
    setField(req, text(req.query.value) ?? null);
    res.json({ field: getField(req) });
  });
  app.post('/error', (req, res) => {
    addError(req, text(req.query.level) as ErrorLevel, text(req.query.message));
    res.json(getError(req, true));
  });
  app.get('/error', (req, res) => {
    res.json(getError(req, req.query.withMessage === '1'));
  });
  app.post('/logout', (req, res, next) => {
    req.session.destroy((error: unknown) => (error ? next(error) : res.json({ ok: true })));
  });
  const onError: ErrorRequestHandler = (error: unknown, _req, res, next) => {
    errors.push(error);
    if (res.headersSent) return next(error);
    const { code, message } = error as { code?: unknown; message?: unknown };
    res.status(500).json({ code: code ?? null, message: String(message) });
  };
  app.use(onError);

  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(0, '127.0.0.1', (error?: Error) =>
      error ? reject(error) : resolve(listening),
    );
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    store,
    errors,
    client: () => new Client(url),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
    },
  };
}

/** express-session's cookie signature (cookie-signature's `sign`), with the `s:` prefix. */
export function signedCookieValue(id: string, secret = SECRET): string {
  const mac = createHmac('sha256', secret).update(id).digest('base64').replace(/=+$/, '');
  return `s:${id}.${mac}`;
}

export interface Reply<T> {
  readonly status: number;
  readonly body: T;
  /** The session cookie's Set-Cookie header, if the response set it. */
  readonly setCookie: string | undefined;
  /** The session id in that Set-Cookie header. */
  readonly setId: string | undefined;
  /** The Expires attribute of that header, if any. */
  readonly cookieExpires: Date | undefined;
}

/** A cookie jar for the session cookie and nothing else, over fetch. */
export class Client {
  readonly #url: string;
  #cookie: string | undefined;

  constructor(url: string) {
    this.#url = url;
  }

  /** The session id the jar holds (unsigned), if any. */
  get sessionId(): string | undefined {
    return this.#cookie === undefined ? undefined : idOf(this.#cookie);
  }

  /** Puts a cookie for this session id in the jar, signed as express-session signs it. */
  useSessionId(id: string, secret = SECRET): void {
    this.#cookie = encodeURIComponent(signedCookieValue(id, secret));
  }

  /** Empties the jar: the next request is a new visitor's. */
  forget(): void {
    this.#cookie = undefined;
  }

  async request<T = SessionReply>(
    method: 'GET' | 'POST',
    path: string,
    headers: Record<string, string> = {},
  ): Promise<Reply<T>> {
    const response = await fetch(this.#url + path, {
      method,
      headers: {
        ...headers,
        ...(this.#cookie === undefined ? {} : { cookie: `${COOKIE_NAME}=${this.#cookie}` }),
      },
      redirect: 'manual',
    });
    const setCookie = response.headers
      .getSetCookie()
      .find((header) => header.startsWith(`${COOKIE_NAME}=`));
    const value = setCookie?.slice(COOKIE_NAME.length + 1).split(';')[0];
    if (value !== undefined) this.#cookie = value;
    const expires = setCookie?.match(/;\s*Expires=([^;]+)/i)?.[1];
    return {
      status: response.status,
      body: (await response.json()) as T,
      setCookie,
      setId: value === undefined ? undefined : idOf(value),
      cookieExpires: expires === undefined ? undefined : new Date(expires),
    };
  }

  get<T = SessionReply>(path: string, headers?: Record<string, string>): Promise<Reply<T>> {
    return this.request<T>('GET', path, headers);
  }

  post<T = SessionReply>(path: string, headers?: Record<string, string>): Promise<Reply<T>> {
    return this.request<T>('POST', path, headers);
  }
}

/** The session id in a (URL-encoded, signed) cookie value. */
function idOf(cookieValue: string): string {
  const signed = decodeURIComponent(cookieValue);
  if (!signed.startsWith('s:')) throw new Error(`unsigned session cookie: ${signed}`);
  return signed.slice(2, signed.lastIndexOf('.'));
}

/** Direct SQL on the test database, to check what the store wrote. */
export class Sql {
  readonly pool: pg.Pool;

  constructor(url: string) {
    this.pool = new pg.Pool({ connectionString: url, max: 2 });
    this.pool.on('error', () => {});
  }

  async query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    return (await this.pool.query<R>(text, values)).rows;
  }

  /** The row of a session id (by its stored key), or undefined. */
  async row(table: string, id: string): Promise<SessionRow | undefined> {
    const rows = await this.query<SessionRow>(
      `SELECT sess_id, sess_name, sess_data, sess_created::float8 AS sess_created,
        sess_modified::float8 AS sess_modified, sess_expire::float8 AS sess_expire,
        sess_addr_created, sess_addr_modified, sess_counter, sess_error, sess_warning,
        sess_notice, sess_err_message, sess_custom
      FROM ${pg.escapeIdentifier(table)} WHERE sess_id = $1`,
      [storedKey(id)],
    );
    return rows[0];
  }

  /** Like `row`, but fails when there is none. */
  async mustRow(table: string, id: string): Promise<SessionRow> {
    const row = await this.row(table, id);
    if (!row) throw new Error(`no row in ${table} for session ${id}`);
    return row;
  }

  /** The stored data of a session id, parsed. */
  async data(table: string, id: string): Promise<Record<string, unknown>> {
    const raw = (await this.mustRow(table, id)).sess_data;
    if (raw === null) throw new Error(`session ${id} has no data`);
    return JSON.parse(raw) as Record<string, unknown>;
  }

  /** Session rows (the GC marker row aside). */
  async count(table: string): Promise<number> {
    const rows = await this.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${pg.escapeIdentifier(table)} WHERE sess_id <> '!gc'`,
    );
    return rows[0]?.n ?? 0;
  }

  /** The database's clock, Unix seconds. */
  async now(): Promise<number> {
    const rows = await this.query<{ now: number }>(
      'SELECT extract(epoch from now())::float8 AS now',
    );
    return rows[0]?.now ?? Number.NaN;
  }

  /** Moves a session's expiry (and modification time) by `seconds` (negative: earlier). */
  async shiftExpiry(table: string, id: string, seconds: number): Promise<void> {
    await this.query(
      `UPDATE ${pg.escapeIdentifier(table)} SET sess_expire = sess_expire + $2::bigint,
        sess_modified = sess_modified + $2::bigint WHERE sess_id = $1`,
      [storedKey(id), seconds],
    );
  }

  /** Sets a session's expiry to `seconds` from the database's now (negative: expired). */
  async expireIn(table: string, id: string, seconds: number): Promise<void> {
    await this.query(
      `UPDATE ${pg.escapeIdentifier(table)}
        SET sess_expire = floor(extract(epoch from now()))::bigint + $2::bigint WHERE sess_id = $1`,
      [storedKey(id), seconds],
    );
  }

  /**
   * Counts the statements that write to `table`, in PostgreSQL itself: a statement-level
   * trigger logs each writing statement's transaction id (an INSERT ... ON CONFLICT DO UPDATE
   * fires both INSERT and UPDATE triggers, so distinct transactions are counted).
   */
  async countWrites(table: string): Promise<WriteCounter> {
    const log = pg.escapeIdentifier(`${table}_writes`);
    const fn = pg.escapeIdentifier(`${table}_log_write`);
    await this.query(`CREATE TABLE ${log} (xid xid8 NOT NULL, op text NOT NULL)`);
    await this.query(`CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN INSERT INTO ${log} VALUES (pg_current_xact_id(), TG_OP); RETURN NULL; END $$`);
    await this.query(`CREATE TRIGGER ${pg.escapeIdentifier(`${table}_count_writes`)}
      AFTER INSERT OR UPDATE OR DELETE ON ${pg.escapeIdentifier(table)}
      FOR EACH STATEMENT EXECUTE FUNCTION ${fn}()`);
    return {
      count: async () => {
        const rows = await this.query<{ n: number }>(
          `SELECT count(DISTINCT xid::text)::int AS n FROM ${log}`,
        );
        return rows[0]?.n ?? 0;
      },
    };
  }

  close(): Promise<void> {
    return this.pool.end();
  }
}

export interface WriteCounter {
  /** Writing statements run on the table since the trigger was installed. */
  count(): Promise<number>;
}

/** Statements the store ran, by kind, as its `status()` reports them. */
export async function statementCounts(store: PgsqlStore): Promise<Record<string, number>> {
  const status = await store.core.status();
  return { ...status.servers[0]?.statements };
}

/** Writing statements the store ran, as its `status()` reports them. */
export async function storeWrites(store: PgsqlStore): Promise<number> {
  const counts = await statementCounts(store);
  return WRITE_KINDS.reduce((sum, kind) => sum + (counts[kind] ?? 0), 0);
}

/** `actual` within `tolerance` of `expected` (a value check on seconds, not a timing assertion). */
export function assertNear(
  actual: number,
  expected: number,
  tolerance: number,
  what: string,
): void {
  if (!(Math.abs(actual - expected) <= tolerance)) {
    throw new Error(`${what}: expected ${expected} ± ${tolerance}, got ${actual}`);
  }
}
