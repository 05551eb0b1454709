import { createHash, randomBytes } from 'node:crypto';
import { SessionPgsqlError } from '../errors.js';
import type { SessionPgsql } from '../store/store.js';
import {
  type DashboardOptions,
  type ResolvedDashboardOptions,
  resolveDashboardOptions,
} from './dashboard-options.js';
import { renderPage } from './page.js';
import { refusal } from './request-guard.js';
import { Sampler } from './sampler.js';
import { listSessions } from './session-list.js';

/** A store, or an adapter's store that carries one (`PgsqlStore` of express or fastify). */
export type DashboardStore<D = unknown> = SessionPgsql<D> | { readonly core: SessionPgsql<D> };

/** Longest revoke body read, in bytes. */
export const MAX_BODY_BYTES = 16 * 1024;

const JSON_HEADERS = {
  'content-type': 'application/json; charset=utf-8',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
};

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: JSON_HEADERS });

const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');

/**
 * The dashboard, framework-free: `fetch(request)` answers a request whose path is relative
 * to where the dashboard is mounted: `/` the page, `/data.json` the numbers the page polls,
 * `POST /revoke` (only with `allowRevoke`). Every other path answers 404. The mounts
 * (node-handler.ts, fastify, koa; Hono's own `app.mount`) only translate to this.
 */
export class Dashboard<D = unknown> {
  readonly options: ResolvedDashboardOptions;
  readonly #store: SessionPgsql<D>;
  readonly #sampler: Sampler;

  constructor(store: DashboardStore<D>, options: DashboardOptions = {}) {
    this.options = resolveDashboardOptions(options);
    this.#store = 'core' in store ? store.core : store;
    this.#sampler = new Sampler(this.#store as SessionPgsql<unknown>, {
      intervalMillis: this.options.sampleIntervalMillis,
      samples: this.options.historySamples,
      events: 50,
    });
  }

  /** Answers one request (fetch API); never rejects. */
  readonly fetch = async (request: Request): Promise<Response> => {
    try {
      return await this.#route(request);
    } catch (error) {
      const code = error instanceof SessionPgsqlError ? error.code : null;
      const message = error instanceof Error ? error.message : String(error);
      return json(500, { error: message, code });
    }
  };

  /** Stops sampling (closing the store does too). */
  close(): void {
    this.#sampler.stop();
  }

  async #route(request: Request): Promise<Response> {
    const path = new URL(request.url, 'http://dashboard.invalid').pathname.replace(/\/+$/, '');
    const method = request.method.toUpperCase();
    const read = method === 'GET' || method === 'HEAD';
    if (path === '' && read) return this.#page();
    if (path === '/data.json' && read) return json(200, await this.#data());
    if (path === '/revoke' && this.options.allowRevoke) {
      if (method !== 'POST') return json(405, { error: 'revoke takes POST' });
      return this.#revoke(request);
    }
    return json(404, { error: 'not found' });
  }

  #page(): Response {
    const nonce = randomBytes(16).toString('base64');
    const csp = [
      "default-src 'none'",
      `script-src 'nonce-${nonce}'`,
      `style-src 'nonce-${nonce}'`,
      "connect-src 'self'",
      "img-src 'self' data:",
      "base-uri 'none'",
      "form-action 'none'",
      "frame-ancestors 'none'",
    ].join('; ');
    const { title, pollIntervalMillis, allowRevoke } = this.options;
    return new Response(renderPage({ nonce, title, pollIntervalMillis, allowRevoke }), {
      headers: {
        'content-type': 'text/html; charset=utf-8',
        'cache-control': 'no-store',
        'content-security-policy': csp,
        'x-content-type-options': 'nosniff',
        'x-frame-options': 'DENY',
        'referrer-policy': 'no-referrer',
      },
    });
  }

  async #data(): Promise<unknown> {
    await this.#sampler.start();
    const status = await this.#store.status();
    const o = this.options;
    return {
      title: o.title,
      generatedAt: Date.now(),
      pollIntervalMillis: o.pollIntervalMillis,
      sampleIntervalMillis: o.sampleIntervalMillis,
      allowRevoke: o.allowRevoke,
      store: {
        serverCount: status.serverCount,
        failoverMode: status.failoverMode,
        shortCircuit: status.shortCircuit,
        keepExpired: status.keepExpired,
        gcIntervalSeconds: status.gcIntervalSeconds,
        embedded: status.embedded,
        table: status.table,
      },
      servers: status.servers.map((s) => ({
        index: s.index,
        connection: s.connection,
        up: s.up,
        lastError: s.lastError,
        latencyMillis: s.latencyMillis,
        sessions: s.sessions,
        cacheEntries: s.cache?.entries ?? null,
      })),
      samples: this.#sampler.samples(),
      collections: this.#sampler.collections(),
      health: this.#sampler.health(),
      ...(o.allowRevoke ? await this.#sessions() : { sessions: null, sessionsError: null }),
    };
  }

  /** The sessions listed for revoking; a server that cannot be reached leaves the list out. */
  async #sessions(): Promise<{ sessions: unknown[]; sessionsError: string | null }> {
    try {
      const store = this.#store as SessionPgsql<unknown>;
      const listed = await listSessions(store, this.options.sessionListLimit);
      return {
        sessions: listed.map((s) => ({ ...s, key: this.#handle(s.key) })),
        sessionsError: null,
      };
    } catch (error) {
      return {
        sessions: [],
        sessionsError: error instanceof Error ? error.message : String(error),
      };
    }
  }

  /**
   * What the page shows for a stored key: the key itself with `hashIds` (it is already the
   * id's SHA-256 digest, as in `sess_id`), else its SHA-256 digest (base64url, as `hashIds` stores it), never the id.
   */
  #handle(key: string): string {
    return this.#store.options.hashIds ? key : sha256(key);
  }

  async #revoke(request: Request): Promise<Response> {
    const refused = refusal(request);
    if (refused !== undefined) return json(403, { error: `revoke refused: ${refused}` });
    const text = await request.text();
    if (Buffer.byteLength(text) > MAX_BODY_BYTES) return json(413, { error: 'body too large' });
    let body: { key?: unknown; user?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      return json(400, { error: 'the body is not JSON' });
    }
    if (typeof body?.user === 'string' && body.user !== '') {
      return json(200, { revoked: await this.#store.revokeUser(body.user) });
    }
    if (typeof body?.key !== 'string' || !/^[A-Za-z0-9_-]{43}$/.test(body.key)) {
      return json(400, { error: 'give "key" (as the page shows it) or "user"' });
    }
    const key = await this.#keyOf(body.key);
    const revoked = key !== undefined && (await this.#store.revokeByKey(key));
    return json(200, { revoked: revoked ? 1 : 0 });
  }

  /** The stored key the page's handle names (without `hashIds`, found among the live ones). */
  async #keyOf(handle: string): Promise<string | undefined> {
    if (this.#store.options.hashIds) return handle;
    return (await this.#store.ids()).find((key) => sha256(key) === handle);
  }
}

/** A dashboard for a store (the core or an adapter's store). */
export function createDashboard<D>(
  store: DashboardStore<D>,
  options?: DashboardOptions,
): Dashboard<D> {
  return new Dashboard(store, options);
}
