import type { IncomingMessage } from 'node:http';
import type { Dashboard } from './dashboard.js';
import { toFetchRequest } from './node-handler.js';

/** The part of a Fastify request the dashboard uses (typed by shape: fastify is not imported). */
interface FastifyRequestLike {
  readonly raw: IncomingMessage;
  readonly body?: unknown;
  readonly params?: unknown;
}

interface FastifyReplyLike {
  code(status: number): FastifyReplyLike;
  headers(values: Record<string, string>): FastifyReplyLike;
  send(payload: Buffer): FastifyReplyLike;
}

interface FastifyInstanceLike {
  all(
    path: string,
    handler: (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<FastifyReplyLike>,
  ): unknown;
}

/**
 * The dashboard as a Fastify plugin; register it with a prefix, in a context whose hooks
 * check your authentication: `app.register(fastifyDashboard(dashboard), { prefix: '/admin/sessions' })`.
 */
export function fastifyDashboard(dashboard: Dashboard) {
  const handle = async (request: FastifyRequestLike, reply: FastifyReplyLike) => {
    const rest = (request.params as { '*'?: string } | undefined)?.['*'] ?? '';
    const response = await dashboard.fetch(
      await toFetchRequest(request.raw, `/${rest}`, request.body),
    );
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      headers[name] = value;
    });
    return reply
      .code(response.status)
      .headers(headers)
      .send(Buffer.from(await response.arrayBuffer()));
  };
  return async function sessionPgsqlDashboard(instance: FastifyInstanceLike): Promise<void> {
    instance.all('/', handle);
    instance.all('/*', handle);
  };
}
