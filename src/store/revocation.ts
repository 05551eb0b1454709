import { ErrorCodes, SessionPgsqlError } from '../errors.js';
import type { Server } from '../server/server.js';

/**
 * Signs sessions out for operators: by stored key, or every session whose custom field
 * holds a value (a user signed out everywhere). Rows are deleted on every server of the
 * fleet (a session may have a copy on another server after a failover), and the caches of
 * this process and, through the destroys' notifications, of every other one drop them.
 *
 * A server that cannot be reached makes the call reject once the others are done: a
 * revoked session must not live on there unnoticed. `destroy` (the store's, which leaves a
 * tombstone on a failover target) is then run too, so that a copy on the unreachable
 * server never comes back when it returns.
 */
export class Revocation {
  readonly #servers: readonly Server[];
  readonly #destroy: (key: string) => Promise<void>;

  constructor(servers: readonly Server[], destroy: (key: string) => Promise<void>) {
    this.#servers = servers;
    this.#destroy = destroy;
  }

  /** Deletes the session stored under `key`; true when a row was deleted. */
  async byKey(key: string): Promise<boolean> {
    let deleted = false;
    const failure = await this.#everywhere(async (server) => {
      server.cache?.invalidate(key);
      const { rows } = await server.run('revokeKey', { key }, 'revoke a session');
      // a read of ours that was in flight may have put the session back meanwhile
      server.cache?.invalidate(key);
      deleted ||= rows.length > 0;
    });
    if (failure) {
      await this.#destroy(key).catch(() => {});
      throw failure;
    }
    return deleted;
  }

  /** Deletes every session whose custom field equals `value`; resolves how many. */
  async byField(value: string): Promise<number> {
    if (typeof value !== 'string' || value.includes('\0')) {
      throw new SessionPgsqlError(
        ErrorCodes.INVALID_OPTION,
        'revokeUser takes the custom field as a string without NUL characters',
      );
    }
    let count = 0;
    const failure = await this.#everywhere(async (server) => {
      const { rows } = await server.run('revokeField', { custom: value }, 'revoke sessions');
      for (const row of rows) server.cache?.invalidate(row.sess_id);
      count += rows.length;
    });
    if (failure) throw failure;
    return count;
  }

  /** Runs `work` on every server, one after the other; resolves the first failure, if any. */
  async #everywhere(work: (server: Server) => Promise<void>): Promise<unknown> {
    let failure: unknown;
    for (const server of this.#servers) {
      try {
        await work(server);
      } catch (error) {
        failure ??= unrevoked(server, error);
      }
    }
    return failure;
  }
}

/** A server's failure, naming the server (a revocation must be run again there). */
function unrevoked(server: Server, error: unknown): SessionPgsqlError {
  const code = error instanceof SessionPgsqlError ? error.code : ErrorCodes.DB_QUERY_FAILED;
  const message = error instanceof Error ? error.message : String(error);
  return new SessionPgsqlError(
    code,
    `server ${server.index} (${server.connection}) revoked nothing: ${message}; run the call again once it answers`,
    { cause: error },
  );
}
