import type { AddressInfo } from 'node:net';
import { ErrorCodes, SessionPgsqlError } from '../errors.js';
import type { SessionPgsqlOptions } from '../options/options.js';

/** The demo's express app, listening: its URL, and how to stop it (the server, then the store). */
export interface DemoApp {
  readonly url: string;
  close(): Promise<void>;
}

/** Loads an optional peer dependency, or says how to install it. */
async function load<T>(name: string): Promise<T> {
  try {
    return ((await import(name)) as { default: T }).default;
  } catch (cause) {
    const code = (cause as { code?: unknown }).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw cause;
    throw new SessionPgsqlError(
      ErrorCodes.PEER_UNAVAILABLE,
      `the demo is an Express application and "${name}" is not installed: run "npm install express express-session" next to session-pgsql`,
      { cause },
    );
  }
}

const html = (value: unknown) => String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

type Req = { session: Record<string, unknown> & { destroy(cb: (e?: unknown) => void): void } };

/**
 * The repository's example app (example/app.ts) as the package ships it: a visit counter
 * whose session is the store's, with its metadata (accesses, addresses, custom field, error
 * counters) shown and changed through the adapter's helpers.
 */
export async function startDemo(
  options: SessionPgsqlOptions,
  listen: { port: number; host: string },
): Promise<DemoApp> {
  const express = await load<typeof import('express')>('express');
  const session = await load<typeof import('express-session')>('express-session');
  const { PgsqlStore, addError, getError, sessionInfo, setField } = await import(
    '../adapters/express.js'
  );
  const { serializer: _serializer, ...storeOptions } = options; // the demo's data is JSON
  const store = new PgsqlStore({ shortCircuit: true, ...storeOptions });
  await store.core.length(); // the table is there before the first request
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  app.use(
    session({
      store,
      secret: process.env.SESSION_SECRET ?? 'session-pgsql demo: not a secret',
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: 24 * 60 * 60 * 1000 },
    }),
  );
  const page = (req: Parameters<typeof sessionInfo>[0]) => {
    const info = sessionInfo(req);
    const rows = Object.entries({ ...info, server: info.server.connection })
      .map(([key, value]) => {
        const shown = value instanceof Date ? value.toISOString() : value;
        return `<tr><th>${html(key)}</th><td>${html(shown ?? '-')}</td></tr>`;
      })
      .join('\n');
    const counter = (req as unknown as Req).session.counter ?? 0;
    return `<!doctype html><meta charset="utf-8"><title>session-pgsql demo</title>
<style>body{font:15px system-ui;margin:2em;max-width:44em}th{text-align:left;padding-right:1em}
form{display:inline-block;margin:0 1em .5em 0}</style>
<h1>Visit number ${html(counter)}</h1>
<p>The counter is in the session data. Below is the session's row as the store read it
at the start of this request (it is written at the end).</p>
<table>${rows}</table>
<p>Error counters: ${html(JSON.stringify(getError(req, true)))}</p>
<form method="post" action="/field"><input name="value" placeholder="custom field">
<button>Set field</button></form>
<form method="post" action="/notice"><input name="message" placeholder="notice message">
<button>Add notice</button></form>
<form method="post" action="/logout"><button>Log out</button></form>
<p><a href="/">Reload</a> (each visit of / adds one to the counter)</p>`;
  };
  app.get('/', (req, res) => {
    const s = (req as unknown as Req).session;
    s.counter = Number(s.counter ?? 0) + 1;
    res.type('html').send(page(req));
  });
  app.post('/field', (req, res) => {
    setField(req, String(req.body?.value ?? ''));
    res.redirect(303, '/');
  });
  app.post('/notice', (req, res) => {
    addError(req, 'notice', String(req.body?.message ?? '') || undefined);
    res.redirect(303, '/');
  });
  app.post('/logout', (req, res, next) => {
    (req as unknown as Req).session.destroy((error) =>
      error ? next(error) : res.redirect(303, '/'),
    );
  });
  const server = await new Promise<import('node:http').Server>((resolve, reject) => {
    const s = app.listen(listen.port, listen.host, () => resolve(s));
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${listen.host}:${port}/`,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await store.close();
    },
  };
}
