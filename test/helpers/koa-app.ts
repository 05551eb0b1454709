/**
 * A real Koa 3 app with koa-session 7 and the koa PgsqlStore on 127.0.0.1, port 0, with the
 * same routes as the Express and Fastify apps (express-app.ts, fastify-app.ts).
 */
import type { AddressInfo } from 'node:net';
import Koa, { type Context } from 'koa';
import session, { type CreateSessionOptions } from 'koa-session';
import {
  addError,
  type ErrorLevel,
  getError,
  getField,
  PgsqlStore,
  type SessionPgsqlOptions,
  sessionInfo,
  setField,
} from '../../src/adapters/koa.js';
import { Client, type CookieFormat, type SessionReply } from './cookie-client.js';

export const KOA_SECRET = 'koa-app-test-secret';

/** koa-session's cookie: its default name, the value as it is and a `koa.sess.sig` cookie. */
export const KOA_COOKIE: CookieFormat = {
  name: 'koa.sess',
  prefix: '',
  secret: KOA_SECRET,
  signature: 'sig-cookie',
};

export interface KoaAppOptions {
  /** Options of the PgsqlStore, or a store to use (closed with the app); `gcInterval` defaults to 0. */
  store:
    | (Omit<SessionPgsqlOptions, 'serializer' | 'db'> & {
        db: NonNullable<SessionPgsqlOptions['db']>;
      })
    | PgsqlStore;
  /** koa-session options besides store (its defaults: rolling and renew false, maxAge one day). */
  session?: Omit<CreateSessionOptions, 'store'>;
  /** Koa's `app.proxy`: believe X-Forwarded-For. Default off. */
  proxy?: boolean;
  /**
   * The app's error handler, the first middleware (default). `false`: none, Koa's own error
   * handling answers (a 500 with its status text), errors still kept in `errors`.
   */
  errorHandler?: boolean;
}

export interface KoaTestApp {
  readonly url: string;
  readonly store: PgsqlStore;
  /** Every error that reached the app's error handler, in order. */
  readonly errors: unknown[];
  /** A new client with an empty cookie jar. */
  client(): Client;
  close(): Promise<void>;
}

const fields = (ctx: Context): Record<string, unknown> => ctx.session as Record<string, unknown>;

/** The session's key and its JSON (koa-session's, without its `_` fields): what the app sees. */
function reply(ctx: Context): SessionReply {
  return {
    id: String(ctx.session?.externalKey),
    data: JSON.parse(JSON.stringify(ctx.session)) as Record<string, unknown>,
  };
}

const text = (value: unknown): string | undefined =>
  typeof value === 'string' ? value : undefined;

type Route = (ctx: Context) => Promise<unknown> | unknown;

/**
 * Routes, as in express-app.ts:
 * - `GET /session`: reads only. `POST /increment`: counter + 1. `POST /set?key=&value=`.
 * - `GET /info`, `GET /field`, `POST /field?value=`, `POST /error?level=&message=`,
 *   `GET /error?withMessage=1`: the metadata helpers.
 * - `POST /max-age?ms=`: sets this session's `maxAge` (a number, or `session`).
 * - `POST /redirect`: counter + 1, then a redirect to /session.
 * - `POST /logout`: destroys the session. `POST /regenerate`: a new key, keeping the data.
 * Errors answer 500 with `{ code, message }` (and are kept in `errors`): the handler is the
 * first middleware, before koa-session, so it answers the errors of koa-session's commit
 * too, with none of the headers of the answer it replaces (as Koa's own error handling).
 */
export async function startKoaApp(options: KoaAppOptions): Promise<KoaTestApp> {
  const store =
    options.store instanceof PgsqlStore
      ? options.store
      : new PgsqlStore({ gcInterval: 0, poolSize: 4, ...options.store });
  await store.core.length(); // creates the table, so that tests can query it from the start
  const errors: unknown[] = [];
  const app = new Koa({ keys: [KOA_SECRET], proxy: options.proxy ?? false });
  if (options.errorHandler ?? true) {
    app.use(async (ctx, next) => {
      try {
        await next();
      } catch (error) {
        errors.push(error);
        for (const name of Object.keys(ctx.response.headers)) ctx.remove(name);
        const { code, message } = error as { code?: unknown; message?: unknown };
        ctx.status = 500;
        ctx.body = { code: code ?? null, message: String(message) };
      }
    });
  }
  app.use(session({ ...options.session, store }, app));

  const routes: Record<string, Route> = {
    'GET /session': (ctx) => reply(ctx),
    'POST /increment': (ctx) => {
      const counter = fields(ctx).counter;
      fields(ctx).counter = (typeof counter === 'number' ? counter : 0) + 1;
      return reply(ctx);
    },
    'POST /set': (ctx) => {
      const { key, value } = ctx.query;
      if (typeof key !== 'string' || key.startsWith('_')) throw new Error('POST /set needs ?key=');
      fields(ctx)[key] = text(value) ?? null;
      return reply(ctx);
    },
    'GET /info': (ctx) => sessionInfo(ctx),
    'GET /field': (ctx) => ({ field: getField(ctx) }),
    'POST /field': (ctx) => {
      setField(ctx, text(ctx.query.value) ?? null);
      return { field: getField(ctx) };
    },
    'POST /error': (ctx) => {
      const { level, message } = ctx.query;
      addError(ctx, level as ErrorLevel, text(message));
      return getError(ctx, true);
    },
    'GET /error': (ctx) => getError(ctx, ctx.query.withMessage === '1'),
    'POST /max-age': (ctx) => {
      const ms = text(ctx.query.ms);
      if (ctx.session) ctx.session.maxAge = ms === 'session' ? ms : Number(ms);
      return reply(ctx);
    },
    'POST /redirect': (ctx) => {
      const counter = fields(ctx).counter;
      fields(ctx).counter = (typeof counter === 'number' ? counter : 0) + 1;
      ctx.redirect('/session');
    },
    'POST /logout': (ctx) => {
      ctx.session = null;
      return { ok: true };
    },
    'POST /regenerate': async (ctx) => {
      await ctx.session?.regenerate();
      // koa-session's session object keeps its first key: the new one is what the store wrote
      return { ...reply(ctx), id: sessionInfo(ctx).id };
    },
  };
  app.use(async (ctx) => {
    const route = routes[`${ctx.method} ${ctx.path}`];
    if (!route) {
      ctx.status = 404;
      return;
    }
    const body = await route(ctx);
    if (body !== undefined) ctx.body = body;
  });
  // errors are answered above (or by Koa) and kept: Koa would print them
  app.on('error', (error: unknown) => {
    if (!(options.errorHandler ?? true)) errors.push(error);
  });

  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    store,
    errors,
    client: () => new Client(url, KOA_COOKIE),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
      await store.close();
    },
  };
}
