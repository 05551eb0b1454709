/**
 * A real Express app where users log in, on express-session with whatever store it is given
 * (connect-pg-simple, PgsqlStore...), on 127.0.0.1 port 0: for tests that switch an app
 * from one store to another and check, with the same browser cookies (the cookie-jar
 * `Client` of express-app.ts), that every user is still logged in.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler } from 'express';
import session from 'express-session';
import { Client, EXPRESS_COOKIE, SECRET } from './express-app.js';

/** What `GET /me` answers. */
export interface Me {
  readonly id: string;
  readonly user: string | null;
  readonly cart: string[];
  /** The session cookie's expiry as express-session holds it (ISO), null for a browser-session cookie. */
  readonly expires: string | null;
  readonly originalMaxAge: number | null;
}

export interface LoginApp {
  readonly url: string;
  readonly port: number;
  /** Errors passed to Express's error handler. */
  readonly errors: unknown[];
  /** A new browser (an empty cookie jar). */
  client(): Client;
  /** Closes the HTTP server; the store is the caller's to close. */
  close(): Promise<void>;
}

declare module 'express-session' {
  interface SessionData {
    user?: string;
    cart?: string[];
  }
}

/**
 * Routes: `POST /login?user=&maxAge=` (ms; `session` for a browser-session cookie; default
 * one day), `GET /me`, `POST /cart?item=`, `POST /logout`. Errors answer 500 with their code.
 * `port`: 0 for a free one; the port of an app closed since, for the same site on a new
 * store (the browsers' clients keep working).
 */
export async function startLoginApp(store: session.Store, port = 0): Promise<LoginApp> {
  const errors: unknown[] = [];
  const app = express();
  // No keep-alive: the next app on this port must not get requests on this one's sockets.
  app.use((_req, res, next) => {
    res.setHeader('Connection', 'close');
    next();
  });
  app.use(
    session({
      store,
      secret: SECRET,
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: 24 * 3600 * 1000 },
    }),
  );
  app.post('/login', (req, res) => {
    const { user, maxAge } = req.query;
    if (typeof user !== 'string') throw new Error('POST /login needs ?user=');
    req.session.user = user;
    req.session.cart = [`welcome gift for ${user}`];
    if (maxAge === 'session') req.session.cookie.expires = undefined;
    else if (typeof maxAge === 'string') req.session.cookie.maxAge = Number(maxAge);
    res.json(me(req));
  });
  app.get('/me', (req, res) => {
    res.json(me(req));
  });
  app.post('/cart', (req, res) => {
    const { item } = req.query;
    if (typeof item !== 'string') throw new Error('POST /cart needs ?item=');
    req.session.cart = [...(req.session.cart ?? []), item];
    res.json(me(req));
  });
  app.post('/logout', (req, res, next) => {
    req.session.destroy((error: unknown) => (error ? next(error) : res.json({ ok: true })));
  });
  const onError: ErrorRequestHandler = (error: unknown, _req, res, _next) => {
    errors.push(error);
    const { code, message } = error as { code?: unknown; message?: unknown };
    res.status(500).json({ code: code ?? null, message: String(message) });
  };
  app.use(onError);
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(port, '127.0.0.1', (error?: Error) =>
      error ? reject(error) : resolve(listening),
    );
  });
  const listeningOn = (server.address() as AddressInfo).port;
  const url = `http://127.0.0.1:${listeningOn}`;
  return {
    url,
    port: listeningOn,
    errors,
    client: () => new Client(url, EXPRESS_COOKIE),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function me(req: express.Request): Me {
  const { cookie } = req.session;
  return {
    id: req.sessionID,
    user: req.session.user ?? null,
    cart: req.session.cart ?? [],
    expires: cookie.expires ? new Date(cookie.expires).toISOString() : null,
    originalMaxAge: cookie.originalMaxAge ?? null,
  };
}
