/**
 * A real Fastify 5 app with @fastify/cookie, @fastify/session and the fastify PgsqlStore on
 * 127.0.0.1, port 0, with the same routes as the Express app of express-app.ts.
 */
import fastifyCookie from '@fastify/cookie';
import fastifySession, { type FastifySessionOptions } from '@fastify/session';
import Fastify, { type FastifyRequest } from 'fastify';
import {
  addError,
  type ErrorLevel,
  getError,
  getField,
  PgsqlStore,
  type SessionPgsqlOptions,
  sessionInfo,
  setField,
} from '../../src/adapters/fastify.js';
import { Client, type CookieFormat, type SessionReply } from './cookie-client.js';

export const FASTIFY_SECRET = 'fastify-app-test-secret-of-32-characters-at-least';

/** @fastify/session's cookie: its default name, signed without a prefix. */
export const FASTIFY_COOKIE: CookieFormat = {
  name: 'sessionId',
  prefix: '',
  secret: FASTIFY_SECRET,
};

export interface FastifyAppOptions {
  /** Options of the PgsqlStore, or a store to use (closed with the app); `gcInterval` defaults to 0. */
  store:
    | (Omit<SessionPgsqlOptions, 'serializer' | 'db'> & {
        db: NonNullable<SessionPgsqlOptions['db']>;
      })
    | PgsqlStore;
  /** @fastify/session options besides store and secret (their defaults: rolling and saveUninitialized true). */
  session?: Omit<FastifySessionOptions, 'store' | 'secret'>;
  /** Fastify's `trustProxy`. Default off. */
  trustProxy?: boolean;
}

export interface FastifyTestApp {
  readonly url: string;
  readonly store: PgsqlStore;
  /** Every error that reached Fastify's error handler, in order. */
  readonly errors: unknown[];
  /** A new client with an empty cookie jar. */
  client(): Client;
  close(): Promise<void>;
}

const fields = (request: FastifyRequest): Record<string, unknown> =>
  request.session as unknown as Record<string, unknown>;

/** The session id and the session's JSON without its cookie (what the browser's app sees). */
function reply(request: FastifyRequest): SessionReply {
  const { cookie: _cookie, ...data } = JSON.parse(JSON.stringify(request.session)) as Record<
    string,
    unknown
  >;
  return { id: request.session.sessionId, data };
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : undefined;

type Query = Record<string, string | undefined>;

/**
 * Routes, as in express-app.ts:
 * - `GET /session`: reads only. `POST /increment`: counter + 1. `POST /set?key=&value=`.
 * - `GET /cookie`: the session's cookie (expires, originalMaxAge).
 * - `GET /info`, `GET /field`, `POST /field?value=`, `POST /error?level=&message=`,
 *   `GET /error?withMessage=1`: the metadata helpers.
 * - `POST /redirect`: counter + 1, then a redirect (302) to `/session`.
 * - `POST /logout`: destroys the session. `POST /regenerate`: a new id, keeping the counter.
 * Errors answer 500 with `{ code, message }` (and are kept in `errors`).
 */
export async function startFastifyApp(options: FastifyAppOptions): Promise<FastifyTestApp> {
  const store =
    options.store instanceof PgsqlStore
      ? options.store
      : new PgsqlStore({ gcInterval: 0, poolSize: 4, ...options.store });
  await store.core.length(); // creates the table, so that tests can query it from the start
  const errors: unknown[] = [];
  const app = Fastify({ trustProxy: options.trustProxy ?? false });
  await app.register(fastifyCookie);
  await app.register(fastifySession, {
    ...options.session,
    cookie: { secure: false, ...options.session?.cookie },
    store,
    secret: FASTIFY_SECRET,
  });
  app.setErrorHandler((error: unknown, _request, response) => {
    errors.push(error);
    const { code, message } = error as { code?: unknown; message?: unknown };
    return response.status(500).send({ code: code ?? null, message: String(message) });
  });

  app.get('/session', async (request) => reply(request));
  app.post('/increment', async (request) => {
    const counter = fields(request).counter;
    fields(request).counter = (typeof counter === 'number' ? counter : 0) + 1;
    return reply(request);
  });
  app.post('/set', async (request) => {
    const { key, value } = request.query as Query;
    if (key === undefined || key === 'cookie') throw new Error('POST /set needs ?key=');
    fields(request)[key] = text(value) ?? null;
    return reply(request);
  });
  app.get('/cookie', async (request) => {
    const { expires, originalMaxAge } = request.session.cookie;
    return { expires: expires ?? null, originalMaxAge };
  });
  app.get('/info', async (request) => sessionInfo(request));
  app.get('/field', async (request) => ({ field: getField(request) }));
  app.post('/field', async (request) => {
    setField(request, text((request.query as Query).value) ?? null);
    return { field: getField(request) };
  });
  app.post('/error', async (request) => {
    const { level, message } = request.query as Query;
    addError(request, level as ErrorLevel, message);
    return getError(request, true);
  });
  app.get('/error', async (request) =>
    getError(request, (request.query as Query).withMessage === '1'),
  );
  app.post('/redirect', async (request, response) => {
    const counter = fields(request).counter;
    fields(request).counter = (typeof counter === 'number' ? counter : 0) + 1;
    return response.redirect('/session');
  });
  app.post('/logout', async (request) => {
    await request.session.destroy();
    return { ok: true };
  });
  app.post('/regenerate', async (request) => {
    const counter = fields(request).counter;
    await request.session.regenerate();
    fields(request).counter = counter;
    return reply(request);
  });

  const address = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    url: address,
    store,
    errors,
    client: () => new Client(address, FASTIFY_COOKIE),
    async close() {
      await app.close();
      await store.close();
    },
  };
}
