/**
 * A real Express app with express-session and PgsqlStore on port 0. The cookie-jar HTTP
 * client (cookie-client.ts) and the SQL helpers that look at what the store really wrote
 * (session-sql.ts) are re-exported from here, as the express tests have always used them.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type Request } from 'express';
import session from 'express-session';
import {
  addError,
  type ErrorLevel,
  getError,
  getField,
  PgsqlStore,
  type SessionPgsqlOptions,
  saveBeforeResponse,
  sessionInfo,
  setField,
} from '../../src/adapters/express.js';
import type { SerializerName } from '../../src/index.js';
import { Client, type CookieFormat, type SessionReply } from './cookie-client.js';

export {
  Client,
  type CookieFormat,
  type Reply,
  type SessionReply,
  signedCookieValue,
} from './cookie-client.js';
export {
  assertNear,
  type SessionRow,
  Sql,
  statementCounts,
  storedKey,
  storeWrites,
  type WriteCounter,
} from './session-sql.js';

export const SECRET = 'express-app-test-secret';
export const COOKIE_NAME = 'connect.sid';

/** express-session's cookie: its default name, signed with the `s:` prefix. */
export const EXPRESS_COOKIE: CookieFormat = { name: COOKIE_NAME, prefix: 's:', secret: SECRET };

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
  /** Install saveBeforeResponse() after session(). Default off. */
  guard?: boolean;
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
 * - `POST /logout`: destroys the session. `POST /regenerate`: a new id, keeping the counter.
 * - `POST /redirect`: counter + 1, then a redirect to /session. `POST /empty`: counter + 1,
 *   then `res.status(204).end()` (no body).
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
  if (options.guard) app.use(saveBeforeResponse());
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
  app.post('/regenerate', (req, res, next) => {
    const counter = fields(req).counter;
    req.session.regenerate((error: unknown) => {
      if (error) return next(error);
      fields(req).counter = counter;
      res.json(reply(req));
    });
  });
  app.post('/redirect', (req, res) => {
    const counter = fields(req).counter;
    fields(req).counter = (typeof counter === 'number' ? counter : 0) + 1;
    res.redirect('/session');
  });
  app.post('/empty', (req, res) => {
    const counter = fields(req).counter;
    fields(req).counter = (typeof counter === 'number' ? counter : 0) + 1;
    res.status(204).end();
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
    client: () => new Client(url, EXPRESS_COOKIE),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
    },
  };
}
