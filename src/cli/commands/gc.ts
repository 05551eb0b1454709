import type { GcResult } from '../../gc/garbage-collector.js';
import type { Command } from '../command.js';
import { ExitCodes } from '../exit-codes.js';
import { helpFlag, integerFlag, jsonFlag, storeFlags, storeOptions } from '../flags.js';
import { withStore } from '../open.js';

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export const gc: Command = {
  name: 'gc',
  summary: 'delete expired sessions now, on every server (for cron)',
  usage: '[options]',
  description: [
    'Deletes every expired session on every server of --db now, --batch-size rows per statement, and prints one summary line. For a cron job next to an application that runs with gcInterval: 0. On a terminal, a progress bar on stderr shows the servers done.',
  ].join('\n\n'),
  flags: {
    db: storeFlags.db,
    table: storeFlags.table,
    'batch-size': {
      type: 'string',
      value: 'N',
      description: "rows deleted per statement (the store's gcBatchSize, default: 1000)",
    },
    'connect-timeout': storeFlags['connect-timeout'],
    ...jsonFlag,
    ...helpFlag,
  },
  examples: ['*/10 * * * * SESSION_PGSQL_DB="host=db dbname=app user=app" npx session-pgsql gc'],
  async run(parsed, { out, env }) {
    const options = storeOptions(parsed, env);
    const batchSize = integerFlag(parsed, 'batch-size');
    if (batchSize !== undefined) options.gcBatchSize = batchSize;
    const started = performance.now();
    const { results, connections } = await withStore(options, async (store) => {
      const db = store.options.db;
      const total = db.kind === 'servers' ? db.servers.length : 1;
      const done: GcResult[] = [];
      let deleted = 0;
      out.progress(0, total, 'collecting');
      store.on('gc', (result) => {
        done.push(result);
        deleted += result.deleted;
        out.progress(done.length, total, `servers, ${plural(deleted, 'session')} deleted`);
      });
      await store.gc();
      const connections =
        db.kind === 'servers'
          ? db.servers.map((s, i) => (s.kind === 'conninfo' ? s.connection : `pg Pool #${i}`))
          : [`embedded:${db.dir}`];
      return { results: done, connections };
    });
    const deleted = results.reduce((sum, r) => sum + r.deleted, 0);
    const durationMillis = Math.round(performance.now() - started);
    out.line(
      `deleted ${plural(deleted, 'expired session')} on ${plural(results.length, 'server')} in ${durationMillis} ms`,
    );
    out.result({
      deleted,
      durationMillis,
      servers: results.map((r) => ({ ...r, connection: connections[r.server] ?? null })),
    });
    return ExitCodes.OK;
  },
};
