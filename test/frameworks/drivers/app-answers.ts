/** A test app whose own error handler answers every error with `{ code, message }`. */
import type { Reply } from '../../helpers/cookie-client.js';
import type { FrameworkApp } from './framework-driver.js';

export function appAnswers(app: Omit<FrameworkApp, 'errorCode'>): FrameworkApp {
  return {
    url: app.url,
    store: app.store,
    errors: app.errors,
    client: () => app.client(),
    errorCode: (reply: Reply<unknown>) => (reply.body as { code?: unknown }).code,
    close: () => app.close(),
  };
}
