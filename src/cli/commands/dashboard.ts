import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDashboard } from '../../dashboard/dashboard.js';
import { nodeHandler } from '../../dashboard/node-handler.js';
import { ErrorCodes, SessionPgsqlError } from '../../errors.js';
import { SessionPgsql } from '../../store/store.js';
import type { Command } from '../command.js';
import { ExitCodes } from '../exit-codes.js';
import { helpFlag, listenAddress, listenFlags, storeFlags, storeOptions } from '../flags.js';

/** `http://host:port/`, an IPv6 address in brackets. */
const urlOf = (host: string, port: number) =>
  `http://${host.includes(':') ? `[${host}]` : host}:${port}/`;

export const dashboard: Command = {
  name: 'dashboard',
  summary: "serve session-pgsql/dashboard for --db's servers (no authentication: localhost)",
  usage: '[options]',
  description: [
    "Serves the dashboard of session-pgsql/dashboard over HTTP: each server's health, latency and sessions, charts of the store's operations, garbage collections. It reads the table as the application's store does (a missing table is shown as the server's error: run \"session-pgsql init\" first). Ctrl-C stops it.",
    'The dashboard has no authentication of its own: it listens on 127.0.0.1 unless --host is given. Put it behind an authenticating proxy before giving another --host. --allow-revoke adds buttons that sign sessions and users out; without it, it only reads.',
  ].join('\n\n'),
  flags: {
    ...storeFlags,
    ...listenFlags(3001, '127.0.0.1, as it has no authentication'),
    'allow-revoke': {
      type: 'boolean',
      description: 'show revoke buttons per session and per user (default: read only)',
    },
    ...helpFlag,
  },
  examples: [
    'session-pgsql dashboard --db postgres://app@db/app',
    'ssh -L 3001:127.0.0.1:3001 db-host   # then open http://127.0.0.1:3001/',
  ],
  async run(parsed, { out, env }) {
    const options = storeOptions(parsed, env);
    const { port, host } = listenAddress(parsed, 3001);
    const store = new SessionPgsql({ gcInterval: 0, createTable: false, ...options });
    const board = createDashboard(store, { allowRevoke: parsed.values['allow-revoke'] === true });
    const server = createServer(nodeHandler(board));
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', (error) => {
          const message = `cannot listen on ${urlOf(host, port)}: ${error.message}`;
          reject(new SessionPgsqlError(ErrorCodes.INVALID_OPTION, message, { cause: error }));
        });
        server.listen(port, host, resolve);
      });
      const { port: bound } = server.address() as AddressInfo;
      out.line(`session-pgsql dashboard on ${urlOf(host, bound)} (Ctrl-C stops it)`);
      const signal = await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
      out.note(`${String(signal[0] ?? 'signal')}: closing`);
    } finally {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      board.close();
      await store.close();
    }
    return ExitCodes.OK;
  },
};
