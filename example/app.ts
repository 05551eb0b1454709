// The example of `npm start`: an Express app whose sessions live in the embedded
// PostgreSQL (PGlite) in .session-pgsql/, so they survive a restart of the app.
import { existsSync } from 'node:fs';
import express, { type Request } from 'express';
import session from 'express-session';
import { addError, getError, PgsqlStore, sessionInfo, setField } from '../src/adapters/express.js';

declare module 'express-session' {
  interface SessionData {
    counter?: number;
  }
}

const port = Number(process.env.PORT ?? 3000);
const dir = '.session-pgsql';

// No `db` option: the store uses the embedded PostgreSQL in `dir`, for development.
const store = new PgsqlStore({ embeddedDir: dir, shortCircuit: true });

const app = express();
app.use(express.urlencoded({ extended: false }));
app.use(
  session({
    store,
    secret: process.env.SESSION_SECRET ?? 'session-pgsql example: not a secret',
    resave: false,
    saveUninitialized: false,
    cookie: { maxAge: 24 * 60 * 60 * 1000 },
  }),
);

const html = (value: unknown) => String(value).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(req: Request): string {
  const info = sessionInfo(req);
  const rows = Object.entries({ ...info, server: info.server.connection })
    .map(([key, value]) => {
      const shown = value instanceof Date ? value.toISOString() : value;
      return `<tr><th>${html(key)}</th><td>${html(shown ?? '-')}</td></tr>`;
    })
    .join('\n');
  return `<!doctype html><meta charset="utf-8"><title>session-pgsql example</title>
<style>body{font:15px system-ui;margin:2em;max-width:44em}th{text-align:left;padding-right:1em}
form{display:inline-block;margin:0 1em .5em 0}</style>
<h1>Visit number ${req.session.counter ?? 0}</h1>
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
}

app.get('/', (req, res) => {
  req.session.counter = (req.session.counter ?? 0) + 1;
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
  req.session.destroy((error) => (error ? next(error) : res.redirect(303, '/')));
});

// Open the database before serving, so that the first request does not wait for it.
console.log(
  existsSync(dir)
    ? `opening the embedded PostgreSQL in ${dir}/ ...`
    : `creating the embedded PostgreSQL in ${dir}/ (first start: this takes several seconds) ...`,
);
await store.core.status(); // opens (or creates) it; operator calls such as length() never create one
const server = app.listen(port, () => {
  console.log(`session-pgsql example on http://localhost:${port}`);
});

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.log(`${signal}: closing`);
    server.close(() => void store.close().then(() => console.log('closed')));
    server.closeAllConnections();
  });
}
