// NestJS on its Express platform (@nestjs/platform-express), with express-session and the
// Express PgsqlStore: Nest runs on Express, so the store, saveBeforeResponse and the
// metadata helpers are used exactly as in an Express app. `npm run start:nestjs` runs it
// (tsx, with example/tsconfig.nestjs.json for Nest's decorators) on http://localhost:3000;
// `DATABASE_URL` chooses a PostgreSQL, else the embedded one in .session-pgsql/ is used.
import 'reflect-metadata';
import { Controller, Get, Module, Post, Req, Session } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { Request } from 'express';
import session from 'express-session';
import {
  addError,
  getError,
  PgsqlStore,
  saveBeforeResponse,
  sessionInfo,
} from '../src/adapters/express.js';

declare module 'express-session' {
  interface SessionData {
    visits?: number;
  }
}

@Controller()
class VisitsController {
  /** Counts this visitor's visits in the session. */
  @Post('visit')
  visit(@Session() visitor: session.Session & Partial<session.SessionData>): { visits: number } {
    visitor.visits = (visitor.visits ?? 0) + 1;
    return { visits: visitor.visits };
  }

  /** The session's row, as session_pgsql_info() showed it, and its error counters. */
  @Get('info')
  info(@Req() req: Request): object {
    return { info: sessionInfo(req), errors: getError(req, true) };
  }

  /** Raises the notice counter of the session (written at the end of the request). */
  @Post('notice')
  notice(@Req() req: Request): object {
    addError(req, 'notice', 'seen by nest');
    return getError(req, true);
  }
}

@Module({ controllers: [VisitsController] })
class AppModule {}

const store = new PgsqlStore({
  ...(process.env.DATABASE_URL
    ? { db: process.env.DATABASE_URL }
    : { embeddedDir: '.session-pgsql' }),
  shortCircuit: true,
});

const app = await NestFactory.create<NestExpressApplication>(AppModule, {
  logger: ['error', 'warn'],
});
app.set('trust proxy', false); // behind a reverse proxy: 1, so that req.ip is the client's
app.use(
  session({
    store,
    secret: process.env.SESSION_SECRET ?? 'session-pgsql nestjs example: not a secret',
    resave: false,
    saveUninitialized: false,
    cookie: { maxAge: 24 * 60 * 60 * 1000 },
  }),
);
app.use(saveBeforeResponse()); // a success answer means the session is stored
app.enableShutdownHooks();

await store.core.status(); // opens the database (creates the embedded one, and the table) before serving
await app.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? 'localhost');
console.log(`session-pgsql nestjs example on ${await app.getUrl()}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void app
      .close()
      .then(() => store.close())
      .then(() => console.log('closed'));
  });
}
