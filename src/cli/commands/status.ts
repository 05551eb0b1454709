import type { ServerStatus } from '../../server/server.js';
import type { Command } from '../command.js';
import { type ExitCode, ExitCodes } from '../exit-codes.js';
import { helpFlag, jsonFlag, storeFlags, storeOptions } from '../flags.js';
import { withStore } from '../open.js';

function state(server: ServerStatus): 'up' | 'down' | 'error' {
  if (server.up === false) return 'down';
  return server.sessions === null ? 'error' : 'up';
}

/** The servers as a table: one row each, and the error of those that failed under it. */
function table(servers: readonly ServerStatus[]): string[] {
  const rows = [
    ['server', 'state', 'latency', 'sessions', 'connection'],
    ...servers.map((s) => [
      String(s.index),
      state(s),
      s.latencyMillis === null ? '-' : `${s.latencyMillis.toFixed(1)} ms`,
      s.sessions === null ? '-' : String(s.sessions),
      s.connection,
    ]),
  ];
  const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => (r[c] as string).length)));
  const lines: string[] = [];
  for (const [i, row] of rows.entries()) {
    lines.push(
      row.map((cell, c) => (c < 4 ? cell.padEnd((widths[c] as number) + 2) : cell)).join(''),
    );
    const error = i > 0 ? servers[i - 1]?.lastError : null;
    if (error) lines.push(`${' '.repeat((widths[0] as number) + 2)}${error}`);
  }
  return lines;
}

export const status: Command = {
  name: 'status',
  summary: 'every server: up or down, latency, sessions held',
  usage: '[options]',
  description: [
    'Asks every server of --db for its live sessions, as store.status() does, and prints one row per server: up, down (it could not be reached) or error (it answered with an error, e.g. no table), the round trip of the count, and the sessions it holds. Exit code 3 when a server is down, 1 when one failed otherwise: a monitoring check can run it as is.',
  ].join('\n\n'),
  flags: { ...storeFlags, ...jsonFlag, ...helpFlag },
  examples: [
    'session-pgsql status --db "host=db1 dbname=app user=app;host=db2 dbname=app user=app"',
  ],
  async run(parsed, { out, env }) {
    const report = await withStore(storeOptions(parsed, env), (store) => store.status());
    const servers = report.servers;
    const sessions = servers.reduce((sum, s) => sum + (s.sessions ?? 0), 0);
    const counts = { up: 0, down: 0, error: 0 };
    for (const server of servers) counts[state(server)] += 1;
    for (const line of table(servers)) out.line(line);
    const failed = [
      counts.down && `${counts.down} down`,
      counts.error && `${counts.error} failing`,
    ];
    out.line(
      `${report.table}: ${sessions} live session${sessions === 1 ? '' : 's'}; ${servers.length} server${servers.length === 1 ? '' : 's'}, ${[`${counts.up} up`, ...failed.filter(Boolean)].join(', ')}`,
    );
    out.result({ ...report, sessions });
    const code: ExitCode =
      counts.down > 0 ? ExitCodes.UNREACHABLE : counts.error > 0 ? ExitCodes.FAILURE : ExitCodes.OK;
    return code;
  },
};
