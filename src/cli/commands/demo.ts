import { once } from 'node:events';
import type { Command } from '../command.js';
import { startDemo } from '../demo-app.js';
import { ExitCodes } from '../exit-codes.js';
import { helpFlag, listenAddress, listenFlags, storeFlags, storeOptions } from '../flags.js';

export const demo: Command = {
  name: 'demo',
  summary: 'run the example Express app on the store (needs express and express-session)',
  usage: '[options]',
  description: [
    "Serves the repository's example application: a visit counter in an express-session session stored by session-pgsql, with the session's row (accesses, addresses, custom field, error counters) on the page. Its sessions go to --db like any other; --db embedded:DIR keeps them in an embedded PostgreSQL (needs @electric-sql/pglite). Needs express and express-session installed next to session-pgsql. Ctrl-C stops it.",
  ].join('\n\n'),
  flags: {
    ...storeFlags,
    ...listenFlags(3000, '127.0.0.1'),
    ...helpFlag,
  },
  examples: ['session-pgsql demo --db postgres://localhost/app --port 8080'],
  async run(parsed, { out, env }) {
    const options = storeOptions(parsed, env);
    const app = await startDemo(options, listenAddress(parsed, 3000));
    out.line(`session-pgsql demo on ${app.url} (Ctrl-C stops it)`);
    const signal = await Promise.race([once(process, 'SIGINT'), once(process, 'SIGTERM')]);
    out.note(`${String(signal[0] ?? 'signal')}: closing`);
    await app.close();
    return ExitCodes.OK;
  },
};
