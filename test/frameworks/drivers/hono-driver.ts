/** The shared suites' driver for Hono: the app of test/helpers/hono-app.ts. */
import { startHonoApp } from '../../helpers/hono-app.js';
import { appAnswers } from './app-answers.js';
import type { FrameworkDriver } from './framework-driver.js';

export const honoDriver: FrameworkDriver = {
  name: 'hono',
  errorHandlings: ['app'],
  savesBeforeResponse: true,
  errorDropsHeaders: true,
  clearedCookie: /^sid=;.*Max-Age=0/,
  storedFields: (stored) => stored, // the app's fields and nothing else
  async start(store, session = {}) {
    const { lifetime, saveUninitialized } = session;
    const app = await startHonoApp({
      store,
      session: {
        ...(saveUninitialized === undefined ? {} : { saveUninitialized }),
        ...(lifetime === undefined ? {} : { ttl: lifetime }),
      },
    });
    return appAnswers({ ...app, store: { core: app.store } });
  },
};
