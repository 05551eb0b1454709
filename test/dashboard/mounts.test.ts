/**
 * The dashboard's mounts at HTTP level, each in a real framework on real HTTP with a real
 * store on real PostgreSQL: Fastify (plugin), Koa (middleware), Hono (its own
 * `app.mount`) and a plain node http server (the CLI's way). Each is behind the app's
 * authentication, serves the page, and its data.json follows the store; a revoke through
 * each framework's body handling deletes the row. The plain server's store has a second
 * server that refuses connections: the failover shows.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { serve } from '@hono/node-server';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { basicAuth } from 'hono/basic-auth';
import Koa from 'koa';
import {
  createDashboard,
  type Dashboard,
  fastifyDashboard,
  koaDashboard,
  nodeHandler,
} from '../../src/dashboard/index.js';
import { SessionPgsql } from '../../src/index.js';
import { newId, storedKey, uniqueTable } from '../core/fixtures.js';
import { sharedDatabaseUrl } from '../helpers/postgres.js';
import { Sql } from '../helpers/session-sql.js';
import { ADMIN, ADMIN_HEADER } from './dashboard-app.js';

const url = await sharedDatabaseUrl();
const sql = new Sql(url);
after(() => sql.close());

const PATH = '/admin/sessions';
const FAST = { pollIntervalMillis: 100, sampleIntervalMillis: 100, allowRevoke: true };
const REVOKE = { 'content-type': 'application/json', 'x-session-pgsql-dashboard': 'revoke' };

interface Data {
  samples: { sessions: number | null }[];
  servers: { index: number; up: boolean | null }[];
  health: { kind: string; server: number }[];
  sessions: { key: string; user: string | null }[] | null;
}

/** Polls data.json until `test` holds (the sampler runs every 100 ms), or fails after 20 s. */
async function waitForData(base: string, test: (data: Data) => boolean): Promise<Data> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const response = await fetch(`${base}/data.json`, { headers: { authorization: ADMIN_HEADER } });
    assert.equal(response.status, 200);
    const data = (await response.json()) as Data;
    if (test(data)) return data;
    if (Date.now() > deadline)
      throw new Error(`data.json never matched: ${JSON.stringify(data).slice(-1500)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const lastSessions = (data: Data) => data.samples.at(-1)?.sessions;

/** What every mount must do, at `base` (the dashboard's URL). */
async function checkMount(base: string, store: SessionPgsql, table: string): Promise<void> {
  assert.equal((await fetch(base)).status, 401, 'behind the app authentication');
  const page = await fetch(base, { headers: { authorization: ADMIN_HEADER } });
  assert.equal(page.status, 200);
  assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
  assert.match(page.headers.get('content-security-policy') ?? '', /script-src 'nonce-/);
  const html = await page.text();
  assert.ok(
    html.includes('<title>&lt;ops&gt; &amp; &quot;sessions&quot;</title>'),
    'the title escaped',
  );
  assert.equal(
    (await fetch(`${base}/nothing`, { headers: { authorization: ADMIN_HEADER } })).status,
    404,
  );

  await waitForData(base, (d) => lastSessions(d) === 0);
  const id = newId();
  await store.write(id, { n: 1 });
  const data = await waitForData(base, (d) => lastSessions(d) === 1);
  assert.deepEqual(
    data.sessions?.map((s) => s.key),
    [storedKey(id)],
  );
  assert.ok(!JSON.stringify(data).includes(id), 'no session id in the data');

  const revoke = await fetch(`${base}/revoke`, {
    method: 'POST',
    headers: { authorization: ADMIN_HEADER, ...REVOKE },
    body: JSON.stringify({ key: storedKey(id) }),
  });
  assert.equal(revoke.status, 200);
  assert.deepEqual(await revoke.json(), { revoked: 1 });
  assert.equal(await sql.row(table, id), undefined, 'the row is gone');
}

const TITLE = '<ops> & "sessions"';

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('dashboard mounts', () => {
  const closing: (() => Promise<unknown> | unknown)[] = [];
  after(async () => {
    for (const close of closing.reverse()) await close();
  });

  const setUp = async (table: string, db?: string[]) => {
    const store = new SessionPgsql({ db: db ?? url, table, gcInterval: 0 });
    const dashboard: Dashboard = createDashboard(store, { ...FAST, title: TITLE });
    closing.push(() => store.close());
    // creates the table; with a server that refuses connections, the dashboard sees it fail over
    await store.length().catch(() => {});
    return { store, dashboard };
  };

  it('as a Fastify plugin, in a context whose hook checks authentication', async () => {
    const table = uniqueTable('dash_fastify');
    const { store, dashboard } = await setUp(table);
    const app = Fastify();
    await app.register(async (admin) => {
      admin.addHook('onRequest', async (request, reply) => {
        if (request.headers.authorization !== ADMIN_HEADER) await reply.code(401).send('no');
      });
      await admin.register(fastifyDashboard(dashboard), { prefix: PATH });
    });
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    closing.push(() => app.close());
    await checkMount(address + PATH, store, table);
  });

  it('as Koa middleware after the authentication middleware', async () => {
    const table = uniqueTable('dash_koa');
    const { store, dashboard } = await setUp(table);
    const app = new Koa();
    app.use(async (ctx, next) => {
      if (ctx.path.startsWith(PATH) && ctx.get('authorization') !== ADMIN_HEADER) {
        ctx.status = 401;
        return;
      }
      await next();
    });
    app.use(koaDashboard(dashboard, { path: PATH }));
    app.use((ctx) => {
      ctx.body = 'the app';
    });
    const server = createServer(app.callback());
    const base = await listen(server);
    closing.push(() => new Promise((resolve) => server.close(resolve)));
    await checkMount(base + PATH, store, table);
    assert.equal(await (await fetch(`${base}/other`)).text(), 'the app', 'other paths go on');
  });

  it("with Hono's app.mount, after hono/basic-auth", async () => {
    const table = uniqueTable('dash_hono');
    const { store, dashboard } = await setUp(table);
    const app = new Hono();
    app.use(`${PATH}/*`, basicAuth(ADMIN));
    app.use(PATH, basicAuth(ADMIN));
    app.mount(PATH, dashboard.fetch);
    const server = await new Promise<Server>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () =>
        resolve(s as Server),
      );
    });
    closing.push(() => new Promise((resolve) => server.close(resolve)));
    await checkMount(
      `http://127.0.0.1:${(server.address() as AddressInfo).port}${PATH}`,
      store,
      table,
    );
  });

  it('as a plain node http handler, showing a failover to the server that answers', async () => {
    const table = uniqueTable('dash_node');
    const refused = 'postgresql://postgres@127.0.0.1:1/nothing?connect_timeout=2';
    const { store, dashboard } = await setUp(table, [url, refused]);
    const handler = nodeHandler(dashboard);
    const server = createServer((req, res) => {
      if (req.headers.authorization !== ADMIN_HEADER) {
        res.statusCode = 401;
        res.end();
        return;
      }
      handler(req, res);
    });
    const base = await listen(server);
    closing.push(() => new Promise((resolve) => server.close(resolve)));
    for (let i = 0; i < 8; i++) await store.write(newId(), { i });
    const data = await waitForData(base, (d) => d.health.some((h) => h.kind === 'failover'));
    assert.deepEqual(
      data.health.filter((h) => h.kind === 'failover').map((h) => h.server),
      [1],
    );
    assert.equal(data.servers[1]?.up, false);
    await store.clear().catch(() => {});
  });
});
