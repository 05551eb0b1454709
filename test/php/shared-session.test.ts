/**
 * One session, both languages: a PHP app (PHP's built-in web server, PgsqlSessionHandler and
 * ExpressSessionCookie) and a Node app (Express, express-session, session-pgsql/express with
 * the `php` serializer) on one domain share a logged-in session in both directions, through
 * one browser's cookie jar (cookies ignore ports). Log in, change, log out on either side: the
 * other sees it; the row's metadata stays one story. A cookie whose signature does not verify
 * is a new visitor on both sides.
 */
import assert from 'node:assert/strict';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import express, { type ErrorRequestHandler, type Request } from 'express';
import session from 'express-session';
import { getField, PgsqlStore, sessionInfo, setField } from '../../src/adapters/express.js';
import { storedKey, storedRow, uniqueTable, useTestDatabase } from '../core/fixtures.js';
import { CookieJar } from '../helpers/cookie-jar.js';
import { signedCookieValue } from '../helpers/express-app.js';
import { type PhpServer, startPhpServer } from '../helpers/php.js';

const db = useTestDatabase();
const SECRET = 'one secret for both apps';
const APP = fileURLToPath(new URL('./apps/shared-app.php', import.meta.url));

interface Whoami {
  id: string;
  user: string | null;
  data: Record<string, unknown>;
  info: {
    accesses: number;
    custom: string | null;
    createdAddress: string | null;
    modifiedAddress: string | null;
  };
}

const text = (value: unknown) => (typeof value === 'string' ? value : '');
const fields = (req: Request) => req.session as unknown as Record<string, unknown>;

/** The Node half: the same routes as test/php/apps/shared-app.php. */
async function startNodeApp(table: string, cookie: session.CookieOptions = {}) {
  const store = new PgsqlStore({ db: db.url, table, gcInterval: 0, serializer: 'php' });
  const app = express();
  app.use(session({ store, secret: SECRET, resave: false, saveUninitialized: false, cookie }));
  const whoami = (req: Request): Whoami => {
    const { cookie: _cookie, ...data } = fields(req);
    return { id: req.sessionID, user: text(data.user) || null, data, info: sessionInfo(req) };
  };
  app.get('/whoami', (req, res) => {
    res.json(whoami(req));
  });
  app.post('/login', (req, res, next) => {
    req.session.regenerate((error: unknown) => {
      if (error) return next(error);
      fields(req).user = text(req.query.user);
      res.json(whoami(req));
    });
  });
  app.post('/set', (req, res) => {
    fields(req)[text(req.query.key)] = text(req.query.value);
    res.json(whoami(req));
  });
  app.post('/field', (req, res) => {
    setField(req, text(req.query.value));
    res.json({ ...whoami(req), field: getField(req) });
  });
  app.post('/logout', (req, res, next) => {
    req.session.destroy((error: unknown) => (error ? next(error) : res.json({ ok: true })));
  });
  const onError: ErrorRequestHandler = (
    error: { code?: string; message?: string },
    _req,
    res,
    _next,
  ) => {
    res.status(500).json({ code: error.code ?? null, message: String(error.message) });
  };
  app.use(onError);
  const server = await new Promise<Server>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await store.close();
    },
  };
}

async function startBoth(cookie: session.CookieOptions = {}) {
  const table = uniqueTable('shared');
  const node = await startNodeApp(table, cookie);
  const php = await startPhpServer(APP, {
    env: { SESSION_DB: db.url, SESSION_TABLE: table, SESSION_SECRET: SECRET },
  });
  return { table, node, php };
}

describe('one session shared by a PHP app and an Express app', () => {
  let table: string;
  let node: Awaited<ReturnType<typeof startNodeApp>>;
  let php: PhpServer;

  before(async () => {
    ({ table, node, php } = await startBoth());
  });
  after(async () => {
    await node?.close();
    await php?.stop();
  });

  async function row(id: string) {
    const found = await storedRow(db.admin, table, storedKey(id));
    assert.ok(found, `a row for ${id}`);
    return found;
  }

  /** A request that must succeed, with the session it saw. */
  async function ok(jar: CookieJar, method: 'get' | 'post', url: string): Promise<Whoami> {
    const reply = await jar[method]<Whoami & { message?: string }>(url);
    assert.equal(
      reply.status,
      200,
      `${method.toUpperCase()} ${url}: ${JSON.stringify(reply.body)}`,
    );
    return reply.body;
  }

  it('log in on PHP, Node sees it; changes on either side, the other sees them; the metadata is one row', async () => {
    const jar = new CookieJar();
    const login = await ok(jar, 'post', `${php.url}/login?user=alice`);
    assert.equal(login.user, 'alice');
    const id = login.id;
    assert.match(
      jar.cookie('connect.sid') ?? '',
      /^s%3A[A-Za-z0-9_-]{32}\.[A-Za-z0-9%]+$/,
      "express-session's signed cookie",
    );
    let requests = 1; // writes and touches of this session so far: its access counter

    const seen = await ok(jar, 'get', `${node.url}/whoami`);
    requests += 1;
    assert.equal(seen.id, id);
    assert.equal(seen.user, 'alice');
    assert.equal(seen.info.accesses, requests - 1, 'as read: before this request counted');

    await ok(jar, 'post', `${node.url}/set?key=theme&value=dark`);
    requests += 1;
    const inPhp = await ok(jar, 'get', `${php.url}/whoami`);
    requests += 1;
    assert.deepEqual(inPhp.data, { user: 'alice', theme: 'dark' });
    assert.equal(inPhp.id, id);

    await ok(jar, 'post', `${php.url}/set?key=cart&value=3`);
    requests += 1;
    const inNode = await ok(jar, 'get', `${node.url}/whoami`);
    requests += 1;
    assert.deepEqual(inNode.data, { user: 'alice', theme: 'dark', cart: '3' });

    await ok(jar, 'post', `${php.url}/field?value=plan=pro`);
    requests += 1;
    assert.equal((await ok(jar, 'get', `${node.url}/whoami`)).info.custom, 'plan=pro');
    requests += 1;
    await ok(jar, 'post', `${node.url}/field?value=plan=team`);
    requests += 1;
    const last = await ok(jar, 'get', `${php.url}/whoami`);
    requests += 1;
    assert.equal(last.info.custom, 'plan=team');
    assert.equal(last.info.accesses, requests - 1);

    const stored = await row(id);
    assert.equal(stored.sess_counter, requests, 'every request of either app counted once, in SQL');
    assert.equal(stored.sess_name, 'connect.sid');
    assert.equal(stored.sess_custom, 'plan=team');
    assert.equal(stored.sess_addr_created, '127.0.0.1');
    assert.equal(stored.sess_addr_modified, '127.0.0.1');
    assert.match(stored.sess_data ?? '', /^user\|s:5:"alice";/);
    assert.match(
      stored.sess_data ?? '',
      /cookie\|a:\d+:\{/,
      "express-session's cookie, kept by PHP",
    );
    assert.equal(
      stored.sess_expire - stored.sess_modified,
      1440,
      'ttl and session.gc_maxlifetime agree',
    );
  });

  it('log out on Node: both are logged out; log in on Node, PHP sees it; log out on PHP: both are logged out', async () => {
    const jar = new CookieJar();
    const { id: phpId } = await ok(jar, 'post', `${php.url}/login?user=alice`);
    await ok(jar, 'post', `${node.url}/logout`);
    assert.equal(await storedRow(db.admin, table, storedKey(phpId)), undefined);
    const afterNodeLogout = await ok(jar, 'get', `${php.url}/whoami`);
    assert.equal(afterNodeLogout.user, null);
    assert.notEqual(afterNodeLogout.id, phpId);
    assert.equal((await ok(jar, 'get', `${node.url}/whoami`)).user, null);

    const { id: nodeId } = await ok(jar, 'post', `${node.url}/login?user=bob`);
    const inPhp = await ok(jar, 'get', `${php.url}/whoami`);
    assert.equal(inPhp.user, 'bob');
    assert.equal(inPhp.id, nodeId);
    assert.equal(inPhp.info.accesses, 1);

    await ok(jar, 'post', `${php.url}/logout`);
    assert.equal(jar.cookie('connect.sid'), undefined, 'PHP removed the cookie');
    assert.equal(await storedRow(db.admin, table, storedKey(nodeId)), undefined);
    assert.equal((await ok(jar, 'get', `${node.url}/whoami`)).user, null);
    assert.equal((await ok(jar, 'get', `${php.url}/whoami`)).user, null);
  });

  it('a cookie that does not verify (forged, another secret, unsigned) is a new visitor on both sides', async () => {
    const jar = new CookieJar();
    const { id } = await ok(jar, 'post', `${php.url}/login?user=alice`);
    const before = await row(id);
    for (const forged of [
      encodeURIComponent(signedCookieValue(id, 'not the secret')),
      id,
      encodeURIComponent(`s:${id}`),
      encodeURIComponent(`${signedCookieValue(id, SECRET).slice(0, -2)}xx`),
    ]) {
      for (const url of [php.url, node.url]) {
        const other = new CookieJar();
        other.setCookie('connect.sid', forged);
        const seen = await ok(other, 'get', `${url}/whoami`);
        assert.equal(seen.user, null, `${url} with ${forged}`);
        assert.notEqual(seen.id, id);
      }
    }
    assert.deepEqual(await row(id), before, 'the real session untouched');
    const genuine = new CookieJar();
    genuine.setCookie('connect.sid', encodeURIComponent(signedCookieValue(id, SECRET)));
    assert.equal((await ok(genuine, 'get', `${php.url}/whoami`)).user, 'alice');
    assert.equal((await ok(genuine, 'get', `${node.url}/whoami`)).user, 'alice');
  });
});

describe('a PHP session in an Express app with a cookie maxAge', () => {
  it("gets the app's cookie (its attributes, its lifetime), and PHP then keeps the expiry that cookie gives", async () => {
    const { table, node, php } = await startBoth({ maxAge: 3_600_000, sameSite: 'lax' });
    try {
      const jar = new CookieJar();
      const { id } = await (await jar.post<Whoami>(`${php.url}/login?user=alice`)).body;
      const changed = await jar.post<Whoami>(`${node.url}/set?key=theme&value=dark`);
      assert.equal(changed.status, 200, JSON.stringify(changed.body));
      const cookie = changed.setCookies.find((c) => c.startsWith('connect.sid='));
      assert.ok(cookie, 'express-session sent its cookie for the PHP session it changed');
      assert.match(cookie, /SameSite=Lax/);
      assert.match(cookie, /Expires=/);
      let stored = await storedRow(db.admin, table, storedKey(id));
      assert.equal(
        (stored?.sess_expire ?? 0) - (stored?.sess_modified ?? 0),
        3600,
        'the cookie maxAge',
      );
      const expire = stored?.sess_expire ?? 0;
      const inPhp = await jar.post<Whoami>(`${php.url}/set?key=cart&value=1`);
      assert.equal(inPhp.status, 200, JSON.stringify(inPhp.body));
      stored = await storedRow(db.admin, table, storedKey(id));
      assert.equal(stored?.sess_data?.includes('cart|s:1:"1";'), true);
      assert.ok(
        Math.abs((stored?.sess_expire ?? 0) - expire) <= 1,
        'PHP kept the expiry of the cookie, not its 1440 s',
      );
    } finally {
      await node.close();
      await php.stop();
    }
  });
});
