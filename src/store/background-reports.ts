import type { EventEmitter } from 'node:events';
import type { Server } from '../server/server.js';
import { errorFields, type Logger } from './log-fields.js';
import type { SessionPgsqlEvents } from './store-types.js';

/** Background work that failed: to the logger when there is one, else a process warning. */
export const reportFailure =
  (logger: Logger | undefined, code: string, what: string) => (error: unknown) => {
    const message = `${what} failed: ${(error as Error).message}`;
    if (logger) logger.error({ code, error: errorFields(error) }, `session-pgsql: ${message}`);
    else process.emitWarning(message, { code });
  };

/** A server going down or answering again: logged, and emitted as `failover` or `recovery`. */
export const reportHealth =
  (events: EventEmitter<SessionPgsqlEvents>, logger: Logger | undefined) =>
  (server: Server, up: boolean, error?: unknown) => {
    const where = { server: server.index, connection: server.connection };
    if (up) {
      logger?.info(where, 'session-pgsql: server answers again');
      events.emit('recovery', where);
    } else {
      logger?.warn(
        { ...where, error: errorFields(error) },
        'session-pgsql: server down, failing over',
      );
      events.emit('failover', { ...where, error });
    }
  };
