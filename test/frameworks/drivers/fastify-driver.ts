/** The shared suites' driver for Fastify: the app of test/helpers/fastify-app.ts. */
import { startFastifyApp } from '../../helpers/fastify-app.js';
import { appAnswers } from './app-answers.js';
import type { FrameworkDriver } from './framework-driver.js';
import { fieldsBesideCookie } from './stored-cookie.js';

export const fastifyDriver: FrameworkDriver = {
  name: 'fastify',
  errorHandlings: ['app'],
  savesBeforeResponse: true,
  errorDropsHeaders: false,
  storedFields: fieldsBesideCookie,
  async start(store, session = {}) {
    const { lifetime, saveUninitialized } = session;
    const app = await startFastifyApp({
      store,
      session: {
        ...(saveUninitialized === undefined ? {} : { saveUninitialized }),
        ...(lifetime === undefined ? {} : { cookie: { maxAge: lifetime * 1000 } }),
      },
    });
    return appAnswers(app);
  },
};
