import type { Command } from '../command.js';
import { ExitCodes } from '../exit-codes.js';
import { helpFlag, jsonFlag, storeFlags, storeOptions } from '../flags.js';
import { withStore } from '../open.js';

const when = (date: Date | null) => (date === null ? '-' : date.toISOString());

export const stats: Command = {
  name: 'stats',
  summary: 'sessions per server: active, expired, sizes, ages, accesses',
  usage: '[options]',
  description: [
    'Counts the sessions on every server of --db, in SQL (store.stats()): active and expired (not collected yet), the size of their data (total, median, 95th percentile, largest), the oldest and newest creation, the latest access, and the sum of their access counters. A server that cannot be reached is reported down, with exit code 3.',
  ].join('\n\n'),
  flags: { ...storeFlags, ...jsonFlag, ...helpFlag },
  async run(parsed, { out, env }) {
    const result = await withStore(storeOptions(parsed, env), (store) => store.stats());
    for (const s of result.servers) {
      out.line(`server ${s.server} (${s.connection}): ${s.up ? 'up' : 'down'}`);
      if (!s.up) {
        out.line(`  ${s.error?.message ?? 'no answer'}`);
        continue;
      }
      out.line(`  sessions   ${s.active} active, ${s.expired} expired`);
      out.line(
        `  bytes      ${s.bytes.total} in all; median ${s.bytes.median}, p95 ${s.bytes.p95}, largest ${s.bytes.max}`,
      );
      out.line(`  created    oldest ${when(s.oldestCreatedAt)}, newest ${when(s.newestCreatedAt)}`);
      out.line(`  accessed   last ${when(s.lastAccessedAt)}, ${s.accesses} accesses in all`);
    }
    out.line(
      `total: ${result.active} active, ${result.expired} expired, ${result.bytes.total} bytes, ${result.accesses} accesses`,
    );
    out.result({
      ...result,
      servers: result.servers.map(({ error, ...s }) =>
        error ? { ...s, error: { code: error.code, message: error.message } } : s,
      ),
    });
    return result.servers.every((s) => s.up) ? ExitCodes.OK : ExitCodes.UNREACHABLE;
  },
};
