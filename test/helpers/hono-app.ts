/**
 * A real Hono app with session-pgsql's sessionMiddleware, served by @hono/node-server on
 * 127.0.0.1, port 0, with the same routes as the Express and Fastify apps.
 */
import { createHmac } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { type Context, Hono } from 'hono';
import {
  addError,
  type ErrorLevel,
  getError,
  getField,
  type HonoSessionOptions,
  type SessionPgsqlOptions,
  type SessionVariables,
  sessionInfo,
  sessionMiddleware,
  setField,
} from '../../src/adapters/hono.js';
import { SessionPgsql } from '../../src/index.js';
import { Client, type CookieFormat, type SessionReply } from './cookie-client.js';

export const HONO_SECRET = 'hono-app-test-secret-of-32-characters-at-least';

/** hono/cookie's signature: HMAC-SHA256 in base64 with its padding. */
export function honoSignature(id: string, secret: string): string {
  return `${id}.${createHmac('sha256', secret).update(id).digest('base64')}`;
}

/** The middleware's cookie: `sid`, signed by hono/cookie. */
export const HONO_COOKIE: CookieFormat = {
  name: 'sid',
  prefix: '',
  secret: HONO_SECRET,
  sign: honoSignature,
};

export interface HonoAppOptions {
  /** Options of the store, or a store to use (closed with the app); `gcInterval` defaults to 0. */
  store:
    | (Omit<SessionPgsqlOptions, 'serializer' | 'db'> & {
        db: NonNullable<SessionPgsqlOptions['db']>;
      })
    | SessionPgsql<Record<string, unknown>>;
  /** Middleware options besides the store (the secret defaults to HONO_SECRET). */
  session?: Omit<HonoSessionOptions, 'store' | 'secret'> & {
    secret?: HonoSessionOptions['secret'];
  };
}

export interface HonoTestApp {
  readonly url: string;
  readonly store: SessionPgsql<Record<string, unknown>>;
  /** Every error that reached Hono's error handler, in order. */
  readonly errors: unknown[];
  /** A new client with an empty cookie jar. */
  client(): Client;
  close(): Promise<void>;
}

interface Data extends Record<string, unknown> {
  counter?: number;
}
type Env = { Variables: SessionVariables<Data> };

const reply = (c: Context<Env>): SessionReply => {
  const session = c.get('session');
  return { id: session.id, data: session.toJSON() };
};

/**
 * Routes, as in express-app.ts and fastify-app.ts:
 * - `GET /session`: reads only. `POST /increment`: counter + 1. `POST /set?key=&value=`.
 * - `GET /info`, `GET /field`, `POST /field?value=`, `POST /error?level=&message=`,
 *   `GET /error?withMessage=1`: the metadata helpers.
 * - `POST /redirect`: counter + 1, then a redirect (302) to `/session`.
 * - `POST /fail`: sets `attempted`, then throws.
 * - `POST /logout`: destroys the session. `POST /regenerate`: a new id, keeping the counter.
 * Errors answer 500 with `{ code, message }` (and are kept in `errors`).
 */
export async function startHonoApp(options: HonoAppOptions): Promise<HonoTestApp> {
  const store =
    options.store instanceof SessionPgsql
      ? options.store
      : new SessionPgsql<Record<string, unknown>>({ gcInterval: 0, poolSize: 4, ...options.store });
  await store.length(); // creates the table, so that tests can query it from the start
  const errors: unknown[] = [];
  const app = new Hono<Env>();
  app.use(sessionMiddleware<Data>({ secret: HONO_SECRET, ...options.session, store }));
  app.onError((error, c) => {
    errors.push(error);
    const { code, message } = error as { code?: unknown; message?: unknown };
    return c.json({ code: code ?? null, message: String(message) }, 500);
  });

  app.get('/session', (c) => c.json(reply(c)));
  app.post('/increment', (c) => {
    const session = c.get('session');
    session.set('counter', (session.get('counter') ?? 0) + 1);
    return c.json(reply(c));
  });
  app.post('/set', (c) => {
    const key = c.req.query('key');
    if (key === undefined) throw new Error('POST /set needs ?key=');
    c.get('session').set(key, c.req.query('value') ?? null);
    return c.json(reply(c));
  });
  app.post('/redirect', (c) => {
    const session = c.get('session');
    session.set('counter', (session.get('counter') ?? 0) + 1);
    return c.redirect('/session');
  });
  app.post('/fail', (c) => {
    c.get('session').set('attempted', true);
    throw new Error('the handler failed');
  });
  app.get('/info', (c) => c.json(sessionInfo(c)));
  app.get('/field', (c) => c.json({ field: getField(c) }));
  app.post('/field', (c) => {
    setField(c, c.req.query('value') ?? null);
    return c.json({ field: getField(c) });
  });
  app.post('/error', (c) => {
    addError(c, c.req.query('level') as ErrorLevel, c.req.query('message'));
    return c.json(getError(c, true));
  });
  app.get('/error', (c) => c.json(getError(c, c.req.query('withMessage') === '1')));
  app.post('/logout', async (c) => {
    await c.get('session').destroy();
    return c.json({ ok: true });
  });
  app.post('/regenerate', async (c) => {
    await c.get('session').regenerate({ keepData: true });
    return c.json(reply(c));
  });

  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const started = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () =>
      resolve(started),
    );
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    store,
    errors,
    client: () => new Client(url, HONO_COOKIE),
    async close() {
      const closed = new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
      (server as Server).closeAllConnections(); // fetch's idle keep-alive connections
      await closed;
      await store.close();
    },
  };
}
