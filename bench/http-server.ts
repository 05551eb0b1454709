/**
 * The HTTP server of the HTTP level, run in its own process (bench/http-level.ts forks it)
 * so that the load generator does not share its CPU time: Express with express-session and
 * the store named by BENCH_VARIANT ("none": no session middleware at all).
 *
 * GET /r reads the session only; GET /w changes it. Messages from the parent:
 * `{ type: 'counts' }` (answered with the requests served and CPU time) and `{ type: 'stop' }`.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import session from 'express-session';
import { type BenchSession, cookieName, secret, sessionData, sessionId } from './fixtures.js';
import { eachLimited, set } from './store-calls.js';
import { findVariant, type OpenedStore } from './stores.js';

export interface ServedCounts {
  readonly reads: number;
  readonly writes: number;
  /** Requests whose session was not found (a failed store would show here). */
  readonly missing: number;
  readonly errors: number;
  /** This process's CPU time so far, in milliseconds. */
  readonly cpuMillis: number;
}

export type ToParent =
  | { type: 'ready'; port: number }
  | { type: 'counts'; counts: ServedCounts }
  | { type: 'failed'; message: string };
export type ToChild = { type: 'counts' } | { type: 'stop' };

const env = process.env;
const variantId = env.BENCH_VARIANT ?? 'none';
const sessions = Number(env.BENCH_SESSIONS ?? 1000);
const lifetimeMillis = Number(env.BENCH_LIFETIME_MILLIS ?? 86_400_000);

function send(message: ToParent): void {
  process.send?.(message);
}

const served = { reads: 0, writes: 0, missing: 0, errors: 0 };
/** Requests still in flight when the parent stops us fail on the closed store: not counted. */
let stopping = false;

function counts(): ServedCounts {
  const cpu = process.cpuUsage();
  return { ...served, cpuMillis: (cpu.user + cpu.system) / 1000 };
}

async function main(): Promise<void> {
  let opened: OpenedStore | undefined;
  const app = express();
  if (variantId !== 'none') {
    opened = await findVariant(variantId).open({
      postgresUrl: env.BENCH_PG_URL,
      redisUrl: env.BENCH_REDIS_URL,
    });
    const store = opened.store;
    const indexes = Array.from({ length: sessions }, (_, i) => i);
    await eachLimited(indexes, 32, (i) =>
      set(store, sessionId('ht', i), sessionData(i, lifetimeMillis)),
    );
    app.use(
      session({
        store,
        secret,
        name: cookieName,
        resave: false,
        saveUninitialized: false,
        cookie: { maxAge: lifetimeMillis, httpOnly: true },
      }),
    );
  }
  const sessionOf = (req: Request) => req.session as unknown as Partial<BenchSession> | undefined;
  app.get('/r', (req, res) => {
    served.reads++;
    const data = sessionOf(req);
    if (variantId !== 'none' && !data?.user) served.missing++;
    res.json({ user: data?.user?.name ?? null, views: data?.views ?? 0 });
  });
  app.get('/w', (req, res) => {
    served.writes++;
    const data = sessionOf(req);
    if (variantId !== 'none' && !data?.user) served.missing++;
    if (data) data.views = (data.views ?? 0) + 1;
    res.json({ user: data?.user?.name ?? null, views: data?.views ?? 0 });
  });
  app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
    if (stopping) return void res.destroy();
    if (++served.errors === 1) console.error(`[${variantId}] request failed:`, error);
    if (!res.headersSent) res.status(500).json({ error: String(error) });
  });
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const address = server.address();
  if (typeof address !== 'object' || !address) throw new Error('no port');

  process.on('message', (message: ToChild) => {
    if (message.type === 'counts') send({ type: 'counts', counts: counts() });
    if (message.type === 'stop') {
      stopping = true;
      server.closeAllConnections();
      server.close();
      void (opened?.close() ?? Promise.resolve()).finally(() => process.exit(0));
    }
  });
  process.on('disconnect', () => process.exit(0));
  send({ type: 'ready', port: address.port });
}

main().catch((error: unknown) => {
  send({
    type: 'failed',
    message: error instanceof Error ? (error.stack ?? error.message) : String(error),
  });
  process.exitCode = 1;
  setTimeout(() => process.exit(1), 100);
});
