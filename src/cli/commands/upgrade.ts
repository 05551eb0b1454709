import { type TableUpgrade, upgradeTable } from '../../migrate/upgrade-table.js';
import { resolveOptions } from '../../options/options.js';
import { TIME_COLUMNS } from '../../sql/table-shape.js';
import { upgradeStatements } from '../../sql/table-upgrade.js';
import type { Command } from '../command.js';
import { ExitCodes } from '../exit-codes.js';
import {
  dbOptions,
  helpFlag,
  integerFlag,
  jsonFlag,
  type Parsed,
  storeFlags,
  stringFlag,
} from '../flags.js';

function printScript(parsed: Parsed): string {
  const table = stringFlag(parsed, 'table');
  const o = resolveOptions({ db: 'host=unused', ...(table === undefined ? {} : { table }) });
  const s = upgradeStatements(o.table);
  const text = (statement: { text: string }) => `${statement.text};`;
  return [
    '-- The upgrade of a session_pgsql table, in one transaction. "session-pgsql upgrade" looks',
    '-- at the table first and runs only the steps it needs; run as the role that owns the table.',
    'BEGIN;',
    text(s.lock),
    `SET LOCAL lock_timeout = ${integerFlag(parsed, 'lock-timeout') ?? 5000};`,
    text(s.lockTable),
    '-- when sess_id has no primary key (session_pgsql before 1.0.1): rows without an id go,',
    '-- and of the rows of one id the newest stays',
    text(s.deleteNullIds),
    text(s.deleteDuplicates),
    text(s.addPrimaryKey),
    '-- when the times are 32-bit integers (they overflow in 2038): only those columns',
    text(s.widen(TIME_COLUMNS)),
    '-- when garbage collection has no index on the expiry',
    text(s.createExpireIndex),
    'COMMIT;',
  ].join('\n');
}

/** What was done on one server, in words. */
function describe(u: TableUpgrade): string {
  if (u.created) return `created the table ${u.table} (there was none)`;
  const done: string[] = [];
  if (u.primaryKeyAdded) {
    done.push(
      `added the primary key on sess_id (removed ${u.duplicatesRemoved} older duplicate rows and ${u.nullIdsRemoved} rows without an id)`,
    );
  }
  if (u.widenedColumns.length > 0) done.push(`turned ${u.widenedColumns.join(', ')} into bigint`);
  if (u.expireIndexCreated) done.push('created the expiry index');
  const sessions = `${u.sessions} session${u.sessions === 1 ? '' : 's'}`;
  return done.length === 0
    ? `the table ${u.table} needs no upgrade (${sessions})`
    : `upgraded the table ${u.table}: ${done.join('; ')} (${sessions} kept)`;
}

export const upgrade: Command = {
  name: 'upgrade',
  summary: 'upgrade a session_pgsql table in place: primary key, 64-bit times, expiry index',
  usage: '[options]',
  description: [
    'Brings the session table on every server of --db to what the store needs, keeping every session: the primary key on sess_id that session_pgsql tables lacked before 1.0.1 (of an id stored more than once the newest row stays), bigint times instead of 32-bit integers, and the expiry index. Each server in one transaction under the lock the store takes to create the table: running it twice, or from two places at once, changes nothing more. A missing table is created.',
    'Run it as the role that owns the table. It takes an exclusive lock on the table and waits for it at most --lock-timeout; meanwhile the application waits behind it. With --print, connects nowhere and prints the SQL.',
  ].join('\n\n'),
  flags: {
    db: storeFlags.db,
    table: storeFlags.table,
    'lock-timeout': {
      type: 'string',
      value: 'MS',
      description: 'how long to wait for the exclusive lock on the table (default: 5000)',
    },
    print: { type: 'boolean', description: 'print the SQL instead of running it' },
    'connect-timeout': storeFlags['connect-timeout'],
    ...jsonFlag,
    ...helpFlag,
  },
  examples: ['session-pgsql upgrade --db "host=db dbname=app user=owner" --table php_session'],
  async run(parsed, { out, env }) {
    if (parsed.values.print === true) {
      out.text(printScript(parsed));
      return ExitCodes.OK;
    }
    const table = stringFlag(parsed, 'table');
    const lockTimeoutMillis = integerFlag(parsed, 'lock-timeout');
    const connectTimeoutMillis = integerFlag(parsed, 'connect-timeout');
    const result = await upgradeTable({
      ...dbOptions(parsed, env),
      ...(table === undefined ? {} : { table }),
      lockTimeoutMillis,
      connectTimeoutMillis,
    });
    for (const u of result.servers)
      out.line(`server ${u.server} (${u.connection}): ${describe(u)}`);
    out.result(result);
    return ExitCodes.OK;
  },
};
