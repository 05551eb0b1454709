import { importConnectPgSimple } from '../../migrate/import-connect-pg-simple.js';
import type { Command } from '../command.js';
import { ExitCodes } from '../exit-codes.js';
import {
  helpFlag,
  integerFlag,
  jsonFlag,
  storeFlags,
  storeOptions,
  stringFlag,
  usageError,
} from '../flags.js';

export const importConnectPgSimpleCommand: Command = {
  name: 'import connect-pg-simple',
  summary: "bring connect-pg-simple's sessions over, under the same cookies",
  usage: '[options]',
  description: [
    "Copies the live sessions of connect-pg-simple's table (--from, --source-table) into the session table of --db, each keyed, serialized and placed as the store will look for it: give the flags the application runs with (--table, --no-hash-ids, --placement, --name). Expired rows stay behind; the source table is only read. The store's table is created if missing.",
    'Idempotent: run it again (e.g. just before switching the application over) and only the sessions that are new or that the old application changed since are written; a session that session-pgsql has written or touched since is never overwritten. On a terminal, the rows read so far are shown on stderr.',
  ].join('\n\n'),
  flags: {
    from: {
      type: 'string',
      value: 'CONNINFO',
      description: "where connect-pg-simple's table is (default: --db, when it names one server)",
    },
    'source-table': {
      type: 'string',
      value: 'NAME',
      description: 'connect-pg-simple\'s table, "table" or "schema.table" (default: session)',
    },
    'batch-size': {
      type: 'string',
      value: 'N',
      description: 'rows read and written per statement (default: 500)',
    },
    ...storeFlags,
    name: {
      type: 'string',
      value: 'COOKIE',
      description: "the session cookie's name, as the store's name option (default: connect.sid)",
    },
    ...jsonFlag,
    ...helpFlag,
  },
  examples: ['session-pgsql import connect-pg-simple --db "$DATABASE_URL" --table php_session'],
  async run(parsed, { out, env }) {
    const to = storeOptions(parsed, env);
    const name = stringFlag(parsed, 'name');
    if (name !== undefined) to.name = name;
    const from = stringFlag(parsed, 'from') ?? (typeof to.db === 'string' ? to.db : undefined);
    if (from === undefined) throw usageError('--from CONNINFO is needed with --db embedded:DIR');
    const sourceTable = stringFlag(parsed, 'source-table');
    const result = await importConnectPgSimple({
      from,
      to,
      table: sourceTable,
      batchSize: integerFlag(parsed, 'batch-size'),
      onProgress: (p) =>
        out.progress(p.read, undefined, `${p.read} rows read, ${p.imported} sessions imported`),
    });
    const skipped = [
      `${result.kept} kept as they were`,
      `${result.expired} expired`,
      `${result.invalidIds} with an id the store refuses`,
      `${result.unreadable} unreadable`,
      `${result.tooLarge} too large`,
    ];
    out.line(
      `imported ${result.imported} session${result.imported === 1 ? '' : 's'} from "${sourceTable ?? 'session'}" (read ${result.read}: ${skipped.join(', ')}) in ${result.batches} batch${result.batches === 1 ? '' : 'es'}`,
    );
    out.result(result);
    return ExitCodes.OK;
  },
};
