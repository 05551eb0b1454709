/**
 * A real Express app for the dashboard tests: express-session with a PgsqlStore, a few
 * session routes, and the dashboard under /admin/sessions behind HTTP basic auth (the
 * application's own authentication, as the README tells users to mount it).
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type RequestHandler } from 'express';
import session from 'express-session';
import { PgsqlStore, type SessionPgsqlOptions, setField } from '../../src/adapters/express.js';
import {
  createDashboard,
  type Dashboard,
  type DashboardOptions,
  nodeHandler,
} from '../../src/dashboard/index.js';
import { Client, EXPRESS_COOKIE, SECRET } from '../helpers/express-app.js';

export const ADMIN = { username: 'admin', password: 'dashboard-test-password' };
export const ADMIN_HEADER = `Basic ${Buffer.from(`${ADMIN.username}:${ADMIN.password}`).toString('base64')}`;
export const DASHBOARD_PATH = '/admin/sessions';

export interface DashboardApp {
  readonly url: string;
  readonly store: PgsqlStore;
  readonly dashboard: Dashboard<unknown>;
  client(): Client;
  close(): Promise<void>;
}

const requireAdmin: RequestHandler = (req, res, next) => {
  if (req.headers.authorization === ADMIN_HEADER) return next();
  res.set('www-authenticate', 'Basic realm="admin"').status(401).send('authentication required');
};

/**
 * Routes: `POST /increment` (counter + 1), `GET /session` (reads), `POST /user?name=` (the
 * custom field, the user), `POST /logout`.
 */
export async function startDashboardApp(
  store: Omit<SessionPgsqlOptions, 'db' | 'serializer'> & { db: string },
  options: DashboardOptions,
): Promise<DashboardApp> {
  const pgsql = new PgsqlStore({ gcInterval: 0, poolSize: 4, ...store });
  await pgsql.core.length();
  const dashboard = createDashboard(pgsql, options);
  const app = express();
  app.use(DASHBOARD_PATH, requireAdmin, nodeHandler(dashboard));
  app.use(session({ resave: false, saveUninitialized: false, store: pgsql, secret: SECRET }));
  const fields = (req: express.Request) => req.session as unknown as Record<string, unknown>;
  app.post('/increment', (req, res) => {
    const counter = fields(req).counter;
    fields(req).counter = (typeof counter === 'number' ? counter : 0) + 1;
    res.json({ id: req.sessionID, data: { counter: fields(req).counter } });
  });
  app.get('/session', (req, res) => {
    res.json({ id: req.sessionID, data: { counter: fields(req).counter ?? null } });
  });
  app.post('/user', (req, res) => {
    fields(req).signedIn = true;
    setField(req, String(req.query.name));
    res.json({ id: req.sessionID, data: {} });
  });
  const server = await new Promise<Server>((resolve, reject) => {
    const listening = app.listen(0, '127.0.0.1', (error?: Error) =>
      error ? reject(error) : resolve(listening),
    );
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    store: pgsql,
    dashboard,
    client: () => new Client(url, EXPRESS_COOKIE),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await pgsql.close();
    },
  };
}
