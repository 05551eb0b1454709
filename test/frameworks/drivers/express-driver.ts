/** The shared suites' driver for Express: the app of test/helpers/express-app.ts. */
import { startApp } from '../../helpers/express-app.js';
import { appAnswers } from './app-answers.js';
import type { FrameworkDriver } from './framework-driver.js';
import { fieldsBesideCookie } from './stored-cookie.js';

export const expressDriver: FrameworkDriver = {
  name: 'express',
  errorHandlings: ['app'],
  savesBeforeResponse: false,
  errorDropsHeaders: false,
  storedFields: fieldsBesideCookie,
  async start(store, session = {}) {
    const { lifetime, saveUninitialized } = session;
    const app = await startApp({
      store,
      session: {
        ...(saveUninitialized === undefined ? {} : { saveUninitialized }),
        ...(lifetime === undefined ? {} : { cookie: { maxAge: lifetime * 1000 } }),
      },
    });
    return appAnswers(app);
  },
};
