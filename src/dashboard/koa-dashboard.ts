import type { IncomingMessage } from 'node:http';
import type { Dashboard } from './dashboard.js';
import { toFetchRequest } from './node-handler.js';

/** The part of a Koa context the dashboard uses (typed by shape: koa is not imported). */
interface KoaContextLike {
  readonly path: string;
  readonly querystring: string;
  readonly req: IncomingMessage;
  readonly request: { readonly body?: unknown };
  status: number;
  body: unknown;
  set(name: string, value: string): void;
}

/**
 * The dashboard as Koa middleware, answering under `path` (default `/dashboard`) and
 * passing every other request on; put your authentication before it:
 * `app.use(requireAdmin); app.use(koaDashboard(dashboard, { path: '/admin/sessions' }))`.
 */
export function koaDashboard(dashboard: Dashboard, options: { readonly path?: string } = {}) {
  const prefix = (options.path ?? '/dashboard').replace(/\/+$/, '');
  return async (ctx: KoaContextLike, next: () => Promise<unknown>): Promise<void> => {
    const path = ctx.path;
    if (path !== prefix && !path.startsWith(`${prefix}/`)) {
      await next();
      return;
    }
    const rest = path.slice(prefix.length) || '/';
    const response = await dashboard.fetch(await toFetchRequest(ctx.req, rest, ctx.request.body));
    ctx.status = response.status;
    response.headers.forEach((value, name) => {
      ctx.set(name, value);
    });
    ctx.body = Buffer.from(await response.arrayBuffer());
  };
}
