/**
 * The files of the scratch app that test/package/tarball.test.ts installs the packed
 * package into: scripts that use it from an ES module and from CommonJS, and TypeScript
 * consumers that type-check against its declarations. Kept as text: they import
 * `session-pgsql` by name, which only the scratch app resolves.
 */

/**
 * What the ES module and the CommonJS scripts both do, with the names their imports bind:
 * a write and a read through the core, through the express-session store and through the
 * @fastify/session store on the real database (the latter without @fastify/session
 * installed: it needs none of it), through the koa-session store (without Koa or
 * koa-session installed), a coded error, and a store without `db` while PGlite is
 * not installed.
 */
const checkBody = `
async function main() {
  const url = process.env.SESSION_PGSQL_URL;
  if (!url) throw new Error('SESSION_PGSQL_URL is not set');
  const id = randomBytes(24).toString('base64url');

  const core = new SessionPgsql({ db: url, table: 'tarball_' + format, gcInterval: 0 });
  const registry = new Registry();
  const metrics = prometheusMetrics(core, { registry });
  const written = await core.write(id, { format });
  const read = (await core.read(id))?.data;
  const invalid = await core.write('bad id', {}).then(
    () => null,
    (error) => ({ code: error.code, coded: error instanceof SessionPgsqlError }),
  );
  const scraped = (await registry.metrics()).split(String.fromCharCode(10));
  metrics.stop();
  const prometheus = {
    lines: scraped.filter((line) => line.startsWith('session_pgsql_operations_total{') || line.startsWith('session_pgsql_errors_total{')),
    afterStop: registry.getMetricsAsArray().length,
  };
  await core.close();

  const store = new PgsqlStore({ db: url, table: 'tarball_' + format + '_express', gcInterval: 0 });
  const cookie = { originalMaxAge: 60000, expires: new Date(Date.now() + 60000), path: '/' };
  await new Promise((resolve, reject) =>
    store.set(id, { cookie, views: 1 }, (error) => (error ? reject(error) : resolve())),
  );
  const got = await new Promise((resolve, reject) =>
    store.get(id, (error, value) => (error ? reject(error) : resolve(value))),
  );
  await store.close();

  const fastifyStore = new FastifyStore({ db: url, table: 'tarball_' + format + '_fastify', gcInterval: 0 });
  const fastifySession = { cookie: { originalMaxAge: 60000, expires: new Date(Date.now() + 60000), path: '/' }, views: 2 };
  await new Promise((resolve, reject) =>
    fastifyStore.set(id, fastifySession, (error) => (error ? reject(error) : resolve())),
  );
  const fastifyGot = await new Promise((resolve, reject) =>
    fastifyStore.get(id, (error, value) => (error ? reject(error) : resolve(value))),
  );
  await fastifyStore.close();

  const honoSessions = sessionMiddleware({
    store: { db: url, table: 'tarball_' + format + '_hono', gcInterval: 0 },
    secret: 'a secret of at least 32 characters!!',
  });
  const honoApp = new Hono().use(honoSessions).post('/', (c) => {
    const views = (c.get('session').get('views') ?? 0) + 1;
    c.get('session').set('views', views);
    return c.json({ views });
  });
  const honoFirst = await honoApp.request('/', { method: 'POST' });
  const honoCookie = (honoFirst.headers.get('set-cookie') ?? '').split(';')[0];
  const honoSecond = await honoApp.request('/', { method: 'POST', headers: { cookie: honoCookie } });
  const honoViews = [(await honoFirst.json()).views, (await honoSecond.json()).views];
  await honoSessions.store.close();
  const koaStore = new KoaStore({ db: url, table: 'tarball_' + format + '_koa', gcInterval: 0 });
  const ctx = { ip: '127.0.0.1' };
  await koaStore.set(id, { views: 3, _expire: Date.now() + 60000, _maxAge: 60000 }, 70000, { ctx, changed: true, rolling: false });
  const koaGot = await koaStore.get(id, 60000, { ctx: {}, rolling: false });
  await koaStore.close();
  const dashboardStore = new SessionPgsql({ db: url, table: 'tarball_' + format + '_dashboard', gcInterval: 0 });
  const dashboard = createDashboard(dashboardStore);
  const page = await dashboard.fetch(new Request('http://app.example/'));
  const dashboardData = await (await dashboard.fetch(new Request('http://app.example/data.json'))).json();
  await dashboardStore.close();

  const embedded = new SessionPgsql({ gcInterval: 0 });
  const unavailable = await embedded.read(id).then(
    () => null,
    (error) => ({
      coded: error instanceof SessionPgsqlError,
      code: error.code,
      message: error.message,
      causeCode: error.cause?.code,
    }),
  );
  await embedded.close();

  console.log(JSON.stringify({
    resolved,
    written,
    read,
    invalid,
    isStore: store instanceof session.Store,
    views: got?.views,
    fastifyViews: fastifyGot?.views,
    fastifySharesCore: new FastifyStore(core).core === core,
    koaViews: koaGot?.views,
    koaSharesCore: new KoaStore(core).core === core,
    prometheus,
    oneErrorClass:
      ExpressSessionPgsqlError === SessionPgsqlError && FastifySessionPgsqlError === SessionPgsqlError &&
      KoaSessionPgsqlError === SessionPgsqlError,
    code: ErrorCodes.EMBEDDED_UNAVAILABLE,
    unavailable,
    honoResolved,
    honoViews,
    honoSharesErrors: HonoSessionPgsqlError === SessionPgsqlError,
    dashboardPage: page.status + ' ' + page.headers.get('content-type'),
    dashboardServers: dashboardData.servers.length,
    nodeHandler: typeof nodeHandler(dashboard),
  }));
}
main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
`;

export const esmScript = `import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import session from 'express-session';
import { ErrorCodes, SessionPgsql, SessionPgsqlError } from 'session-pgsql';
import { PgsqlStore, SessionPgsqlError as ExpressSessionPgsqlError } from 'session-pgsql/express';
import {
  PgsqlStore as FastifyStore,
  SessionPgsqlError as FastifySessionPgsqlError,
} from 'session-pgsql/fastify';
import { Hono } from 'hono';
import { sessionMiddleware, SessionPgsqlError as HonoSessionPgsqlError } from 'session-pgsql/hono';
import { PgsqlStore as KoaStore, SessionPgsqlError as KoaSessionPgsqlError } from 'session-pgsql/koa';
import { prometheusMetrics } from 'session-pgsql/prometheus';
import { Registry } from 'prom-client';
import { createDashboard, nodeHandler } from 'session-pgsql/dashboard';

const honoResolved = fileURLToPath(import.meta.resolve('session-pgsql/hono'));
const format = 'esm';
const resolved = ['session-pgsql', 'session-pgsql/express', 'session-pgsql/fastify', 'session-pgsql/koa', 'session-pgsql/prometheus', 'session-pgsql/dashboard'].map((name) =>
  fileURLToPath(import.meta.resolve(name)),
);
${checkBody}`;

export const cjsScript = `const { randomBytes } = require('node:crypto');
const session = require('express-session');
const { ErrorCodes, SessionPgsql, SessionPgsqlError } = require('session-pgsql');
const { PgsqlStore, SessionPgsqlError: ExpressSessionPgsqlError } = require('session-pgsql/express');
const {
  PgsqlStore: FastifyStore,
  SessionPgsqlError: FastifySessionPgsqlError,
} = require('session-pgsql/fastify');
const { Hono } = require('hono');
const { sessionMiddleware, SessionPgsqlError: HonoSessionPgsqlError } = require('session-pgsql/hono');
const { PgsqlStore: KoaStore, SessionPgsqlError: KoaSessionPgsqlError } = require('session-pgsql/koa');
const { prometheusMetrics } = require('session-pgsql/prometheus');
const { Registry } = require('prom-client');
const { createDashboard, nodeHandler } = require('session-pgsql/dashboard');

const honoResolved = require.resolve('session-pgsql/hono');
const format = 'cjs';
const resolved = ['session-pgsql', 'session-pgsql/express', 'session-pgsql/fastify', 'session-pgsql/koa', 'session-pgsql/prometheus', 'session-pgsql/dashboard'].map((name) =>
  require.resolve(name),
);
${checkBody}`;

/** A TypeScript ES module consumer: wrong uses are marked, so types that are `any` fail too. */
export const esmConsumer = `import session from 'express-session';
import {
  type ErrorCode,
  ErrorCodes,
  SessionPgsql,
  SessionPgsqlError,
  type SessionPgsqlOptions,
} from 'session-pgsql';
import { PgsqlStore, type SessionInfo, sessionInfo } from 'session-pgsql/express';
import fastifySession from '@fastify/session';
import Fastify from 'fastify';
import {
  PgsqlStore as FastifyStore,
  sessionInfo as fastifySessionInfo,
  setField,
} from 'session-pgsql/fastify';
import Koa from 'koa';
import koaSession from 'koa-session';
import {
  addError as koaAddError,
  PgsqlStore as KoaStore,
  sessionInfo as koaSessionInfo,
} from 'session-pgsql/koa';
import { Registry } from 'prom-client';
import { type PrometheusMetrics, prometheusMetrics } from 'session-pgsql/prometheus';
import { createDashboard, type DashboardOptions, nodeHandler } from 'session-pgsql/dashboard';

declare module 'express-session' {
  interface SessionData {
    views?: number;
  }
}

const options: SessionPgsqlOptions<{ a: number }> = { db: 'postgres://localhost/app', gcInterval: 0 };
const s: SessionPgsql<{ a: number }> = new SessionPgsql(options);
const a: number | undefined = (await s.read('an id'))?.data?.a;
// @ts-expect-error the data is typed: a is a number
await s.write('an id', { a: 'one' });
const code: ErrorCode = ErrorCodes.EMBEDDED_UNAVAILABLE;
try {
  await s.close();
} catch (error) {
  if (error instanceof SessionPgsqlError) {
    const caught: ErrorCode = error.code;
    console.log(caught);
  }
}
const store: session.Store = new PgsqlStore({ db: 'host=db dbname=app', shortCircuit: true });
// @ts-expect-error an unknown option
new PgsqlStore({ sessionTTL: 5 });
const info: SessionInfo = sessionInfo({ session: {} });
const accesses: number = info.accesses;
// the fastify store is what @fastify/session takes, alone or sharing a core
const fastifyStore: fastifySession.SessionStore = new FastifyStore({ db: 'host=db dbname=app' });
const shared = new FastifyStore(new SessionPgsql({ db: 'host=db dbname=app' }));
const app = Fastify();
await app.register(fastifySession, { secret: 'a secret of at least 32 characters!!', store: fastifyStore });
app.get('/', async (request) => {
  setField(request, 'plan=pro');
  // @ts-expect-error the field is a string or null
  setField(request, 5);
  const created: Date | null = fastifySessionInfo(request).created;
  return { created };
});
// the koa store is what koa-session takes, and the helpers take Koa's ctx
const koa = new Koa({ keys: ['a key'] });
koa.use(koaSession({ store: new KoaStore({ db: 'host=db dbname=app', shortCircuit: true }) }, koa));
koa.use((ctx) => {
  koaAddError(ctx, 'notice', 'seen');
  // @ts-expect-error error, warning or notice
  koaAddError(ctx, 'fatal');
  const modified: Date | null = koaSessionInfo(ctx).modified;
  ctx.body = { modified };
});
const metrics: PrometheusMetrics = prometheusMetrics(s, { registry: new Registry(), prefix: 'app_' });
// @ts-expect-error the prefix is a string
prometheusMetrics(s, { prefix: 1 });
metrics.stop();

// the hono middleware: typed Variables through the chain, or declared on the app
import { Hono } from 'hono';
import {
  getField,
  sessionMiddleware,
  type SessionEnv,
  type SessionMiddleware,
} from 'session-pgsql/hono';
const sessions: SessionMiddleware<{ views: number }> = sessionMiddleware<{ views: number }>({
  store: new SessionPgsql({ db: 'host=db dbname=app' }),
  secret: 'a secret of at least 32 characters!!',
  cookie: { sameSite: 'Strict' },
});
const hono = new Hono().use(sessions).get('/', (c) => {
  const views: number | undefined = c.get('session').get('views');
  // @ts-expect-error views is a number
  c.get('session').set('views', 'one');
  const field: string | null = getField(c);
  return c.json({ views, field });
});
const declared = new Hono<SessionEnv<{ user: string }>>();
declared.get('/', (c) => c.text(c.get('session').get('user') ?? 'nobody'));
// @ts-expect-error an unknown option
sessionMiddleware({ store: {}, secret: 'a secret of at least 32 characters!!', maxAge: 5 });
console.log(hono, declared);
const dashboardOptions: DashboardOptions = { allowRevoke: false, pollIntervalMillis: 5000 };
// @ts-expect-error an unknown dashboard option
const wrongDashboard: DashboardOptions = { revoke: true };
const dashboard = createDashboard(store as PgsqlStore, dashboardOptions);
const response: Promise<Response> = dashboard.fetch(new Request('http://app.example/data.json'));
console.log(a, code, store, accesses, shared, nodeHandler(dashboard), response, wrongDashboard);
`;

/** The same from CommonJS TypeScript (.cts): the require condition's declarations. */
export const cjsConsumer = `import session = require('express-session');
import core = require('session-pgsql');
import { PgsqlStore, SessionPgsqlError } from 'session-pgsql/express';
import fastify = require('session-pgsql/fastify');
import hono = require('session-pgsql/hono');
import koa = require('session-pgsql/koa');
import prometheus = require('session-pgsql/prometheus');
import dashboards = require('session-pgsql/dashboard');

async function main(): Promise<void> {
  const s: core.SessionPgsql<{ a: number }> = new core.SessionPgsql<{ a: number }>({ gcInterval: 0 });
  const a: number | undefined = (await s.read('an id'))?.data?.a;
  // @ts-expect-error the data is typed: a is a number
  await s.write('an id', { a: 'one' });
  const code: core.ErrorCode = core.ErrorCodes.CLOSED;
  const error: core.SessionPgsqlError = new SessionPgsqlError(code, 'closed');
  const store: session.Store = new PgsqlStore({ db: 'postgres://localhost/app' });
  const fastifyStore: fastify.PgsqlStore = new fastify.PgsqlStore({ db: 'postgres://localhost/app' });
  const counters: fastify.ErrorCounters = fastify.getError({ session: null });
  console.log(fastifyStore, counters);
  const honoInfo: hono.SessionInfo | undefined = undefined;
  const honoOptions: hono.HonoSessionOptions = { store: {}, secret: 'a secret of at least 32 characters!!' };
  console.log(honoInfo, honoOptions, hono.sessionMiddleware);
  const koaStore: koa.PgsqlStore = new koa.PgsqlStore({ db: 'postgres://localhost/app' });
  const koaInfo: koa.SessionInfo = koa.sessionInfo({ session: null });
  console.log(koaStore, koaInfo);
  const metrics: prometheus.PrometheusMetrics = prometheus.prometheusMetrics(s);
  metrics.stop();
  const dashboard: dashboards.Dashboard = dashboards.createDashboard(s);
  console.log(fastifyStore, counters, dashboard.options.allowRevoke);
  // @ts-expect-error a code that does not exist
  const wrong: core.ErrorCode = 'SPG_NOT_A_CODE';
  console.log(a, error, store, wrong);
}
void main();
`;

/** What both scripts print, as one line of JSON. */
export interface ScriptResult {
  resolved: string[];
  written: boolean;
  read: unknown;
  invalid: { code: string; coded: boolean } | null;
  isStore: boolean;
  views: unknown;
  fastifyViews: unknown;
  fastifySharesCore: boolean;
  koaViews: unknown;
  koaSharesCore: boolean;
  prometheus: { lines: string[]; afterStop: number };
  oneErrorClass: boolean;
  code: string;
  unavailable: { coded: boolean; code: string; message: string; causeCode: string } | null;
  honoResolved: string;
  honoViews: unknown;
  honoSharesErrors: boolean;
  dashboardPage: string;
  dashboardServers: number;
  nodeHandler: string;
}
