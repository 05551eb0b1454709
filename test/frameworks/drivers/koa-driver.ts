/**
 * The shared suites' driver for Koa: the app of test/helpers/koa-app.ts, with the app's
 * error handler or with Koa's own error handling (a 500 with its status text, the error
 * seen by Koa's `error` event).
 */
import assert from 'node:assert/strict';
import type { Reply } from '../../helpers/cookie-client.js';
import { startKoaApp } from '../../helpers/koa-app.js';
import { appAnswers } from './app-answers.js';
import type { FrameworkDriver } from './framework-driver.js';

export const koaDriver: FrameworkDriver = {
  name: 'koa',
  errorHandlings: ['app', 'framework'],
  savesBeforeResponse: true,
  errorDropsHeaders: true,
  clearedCookie: /^koa\.sess=;/,
  storedFields(stored, lifetime) {
    const { _maxAge, ...fields } = stored;
    assert.equal(_maxAge, lifetime * 1000, "koa-session's _maxAge is stored");
    assert.equal(fields._expire, undefined, 'the row holds the expiry');
    return fields;
  },
  async start(store, session = {}) {
    const { lifetime, saveUninitialized, errorHandling = 'app' } = session;
    // koa-session never stores a new session that stays empty
    if (saveUninitialized) throw new Error('koa-session has no saveUninitialized');
    const app = await startKoaApp({
      store,
      session: lifetime === undefined ? {} : { maxAge: lifetime * 1000 },
      errorHandler: errorHandling === 'app',
    });
    if (errorHandling === 'app') return appAnswers(app);
    return {
      ...appAnswers(app),
      errorCode(reply: Reply<unknown>) {
        assert.equal(reply.body, 'Internal Server Error', "Koa's answer, no message of ours");
        return (app.errors.at(-1) as { code?: unknown }).code;
      },
    };
  },
};
