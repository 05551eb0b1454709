import type { Database } from '../../database/database.js';
import { databaseError } from '../../errors.js';
import { resolveOptions } from '../../options/options.js';
import { bind } from '../../sql/statement.js';
import { buildStatements } from '../../sql/statements.js';
import { createTableScript, ensureTable, indexName } from '../../sql/table.js';
import { quoteIdentifier, type TableName } from '../../sql/table-name.js';
import type { TableShapeRow } from '../../sql/table-shape.js';
import type { Command } from '../command.js';
import { ExitCodes } from '../exit-codes.js';
import { dbOptions, helpFlag, jsonFlag, type Parsed, storeFlags, stringFlag } from '../flags.js';
import { withDatabases } from '../open.js';

/**
 * What a least-privilege role needs to run the store on an existing table: to connect, to
 * find the table, and to read and write its rows. No DDL, no ownership (see
 * test/core/least-privilege.test.ts).
 */
export function grantStatements(table: TableName, role: string): string[] {
  const r = quoteIdentifier(role);
  const schema = table.schema === undefined ? 'public' : table.schema;
  return [
    `DO $$ BEGIN EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), ${literal(role)}); END $$`,
    `GRANT USAGE ON SCHEMA ${quoteIdentifier(schema)} TO ${r}`,
    `GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE ${table.quoted} TO ${r}`,
  ];
}

const literal = (text: string) => `'${text.replaceAll("'", "''")}'`;

function tableOption(parsed: Parsed): { table?: string } {
  const table = stringFlag(parsed, 'table');
  return table === undefined ? {} : { table };
}

function printScript(parsed: Parsed): string {
  const { table } = resolveOptions({ ...tableOption(parsed), db: 'host=unused' });
  const role = stringFlag(parsed, 'role');
  const lines = [
    `-- The session table of session-pgsql, its expiry index (${quoteIdentifier(indexName(table))}), under`,
    '-- an advisory lock so that two processes setting it up at once do not collide.',
    '-- Run it as the role that is to own the table.',
    createTableScript(table),
  ];
  if (role !== undefined) {
    lines.push(
      '',
      `-- What the application's role ${quoteIdentifier(role)} needs, and nothing more: it runs no DDL.`,
      `-- Give the application "createTable: false"${table.schema === undefined ? '; the table is taken to be in schema public' : ''}.`,
      ...grantStatements(table, role).map((s) => `${s};`),
    );
  }
  return lines.join('\n');
}

interface InitResult {
  readonly server: number;
  readonly connection: string;
  readonly table: string;
  readonly created: boolean;
  readonly role: string | null;
}

async function initOn(
  database: Database,
  table: TableName,
  statements: ReturnType<typeof buildStatements>,
  role: string | undefined,
): Promise<{ created: boolean }> {
  let shape: TableShapeRow | undefined;
  try {
    const { tableShape } = statements;
    shape = (
      await database.query<TableShapeRow>(tableShape, bind(tableShape, { table: table.quoted }))
    ).rows[0];
  } catch (cause) {
    throw databaseError(cause, `look up the session table ${table.display}`);
  }
  await ensureTable(database, statements, table, true);
  if (role !== undefined) {
    try {
      for (const grant of grantStatements(table, role)) await database.exec(grant);
    } catch (cause) {
      throw databaseError(cause, `grant ${quoteIdentifier(role)} access to ${table.display}`);
    }
  }
  return { created: shape?.exists !== true };
}

export const init: Command = {
  name: 'init',
  summary: 'create the session table and its index (--print: show the SQL and the GRANTs)',
  usage: '[options]',
  description: [
    'Creates the session table and its expiry index on every server of --db, as the store does on first use, so that the application can run with createTable: false as a role without DDL rights. A table that is already there is left as it is (one that needs an upgrade is reported: run "session-pgsql upgrade").',
    'With --role NAME, also grants that role what the store needs on the table (CONNECT, USAGE on the schema, SELECT, INSERT, UPDATE, DELETE) and nothing more. With --print, connects nowhere: prints the SQL (and the GRANTs) for a DBA to run.',
  ].join('\n\n'),
  flags: {
    db: storeFlags.db,
    table: storeFlags.table,
    role: {
      type: 'string',
      value: 'NAME',
      description: "the application's least-privilege role: granted what it needs on the table",
    },
    print: { type: 'boolean', description: 'print the SQL instead of running it' },
    'connect-timeout': storeFlags['connect-timeout'],
    ...jsonFlag,
    ...helpFlag,
  },
  examples: [
    'session-pgsql init --db postgres://admin@db/app --role app_web',
    'session-pgsql init --print --table sessions.web --role app_web > sessions.sql',
  ],
  async run(parsed, { out, env }) {
    if (parsed.values.print === true) {
      out.text(printScript(parsed));
      return ExitCodes.OK;
    }
    const role = stringFlag(parsed, 'role');
    const options = { ...dbOptions(parsed, env), ...tableOption(parsed) };
    const results = await withDatabases(options, async (databases, o) => {
      const statements = buildStatements(o.table, {
        keepExpired: o.keepExpired,
        hashIds: o.hashIds,
      });
      const done: InitResult[] = [];
      for (const [server, { database, connection }] of databases.entries()) {
        const { created } = await initOn(database, o.table, statements, role);
        done.push({ server, connection, table: o.table.display, created, role: role ?? null });
        out.line(
          `server ${server} (${connection}): ${created ? `created the table ${o.table.display} and its index` : `the table ${o.table.display} is already there`}${role === undefined ? '' : `; granted ${quoteIdentifier(role)} what it needs`}`,
        );
      }
      return done;
    });
    out.result({ servers: results });
    return ExitCodes.OK;
  },
};
