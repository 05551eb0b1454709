/**
 * Test files of `npm test` run with node:test in a process of their own: one file, or
 * several one after the other (files-entry.ts). The report (node's spec reporter) is
 * printed in one piece once the process ends, headed by the files' names, counts and time;
 * its closing totals are taken out and returned, to be added up.
 */
import { type ChildProcess, spawn } from 'node:child_process';

export const SUMMARY_KEYS = [
  'tests',
  'suites',
  'pass',
  'fail',
  'cancelled',
  'skipped',
  'todo',
] as const;
export type Summary = Record<(typeof SUMMARY_KEYS)[number], number>;

export interface RunResult {
  readonly files: readonly string[];
  /** The files that failed (all of them when the process failed outside their tests). */
  readonly failed: readonly string[];
  readonly summary: Summary;
}

export interface RunOptions {
  /** The repository, where `file` is relative to. */
  readonly cwd: string;
  readonly env: NodeJS.ProcessEnv;
  /** Flags for node, e.g. `--test-name-pattern=...`. */
  readonly nodeFlags: readonly string[];
  /** The flags name reporters of their own: no spec report, no totals to take. */
  readonly ownReporters: boolean;
  /** The file is stopped, and fails, if it still runs after this. */
  readonly timeoutMillis: number;
}

const entry = new URL('files-entry.ts', import.meta.url).pathname;
const summaryLine = new RegExp(`^ℹ (${SUMMARY_KEYS.join('|')}|duration_ms) (\\d+(?:\\.\\d+)?)$`);
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill(); // e.g. on SIGINT: each cleans up its servers
});

export function emptySummary(): Summary {
  return { tests: 0, suites: 0, pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 };
}

/** Runs `files` in one process; resolves once it ended and its report is printed. */
export function runFiles(files: readonly string[], options: RunOptions): Promise<RunResult> {
  const started = performance.now();
  const reporters = options.ownReporters ? [] : ['--test-reporter=spec'];
  const grouped = files.length > 1;
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', ...reporters, ...options.nodeFlags, ...(grouped ? [entry] : []), ...files],
    { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  running.add(child);
  let output = '';
  const collect = (text: string) => {
    output += text;
  };
  child.stdout.setEncoding('utf8').on('data', collect);
  child.stderr.setEncoding('utf8').on('data', collect);
  let timedOut = false;
  const watchdog = setTimeout(() => {
    timedOut = true;
    child.kill();
  }, options.timeoutMillis);
  return new Promise((resolve) => {
    child.once('close', (code, signal) => {
      clearTimeout(watchdog);
      running.delete(child);
      const { report, summary, reported } = takeSummary(output);
      if (grouped && reported) summary.suites -= files.length; // files-entry's suites
      // what fails a file outside its tests (exit code 1 after a failed test aside)
      const problems: string[] = [];
      if (timedOut) problems.push(`still running after ${options.timeoutMillis / 1000} s: stopped`);
      else if (code !== 0 && summary.fail === 0) problems.push(`exited (${signal ?? code})`);
      else if (!reported && !options.ownReporters)
        problems.push('reported no totals: did not load?');
      if (problems.length > 0 && summary.fail === 0) {
        // one failed test, as node --test counts a file that fails outside its tests
        summary.tests += 1;
        summary.fail += 1;
      }
      const ok = problems.length === 0 && summary.fail === 0 && code === 0;
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      const from = (started / 1000).toFixed(0); // seconds since the runner started
      const counts = options.ownReporters ? '' : `${summary.tests} tests, ${summary.fail} failed, `;
      const name = files.join(' + ');
      const lines = [
        `${ok ? '●' : '✖'} ${name} (${counts}${seconds} s from ${from} s)`,
        report.trimEnd(),
      ];
      for (const problem of problems) lines.push(`✖ ${name}: ${problem}`);
      console.log(`\n${lines.filter((line) => line !== '').join('\n')}`);
      resolve({ files, failed: ok ? [] : failedFiles(files, report, problems), summary });
    });
  });
}

/**
 * The files whose suite failed, by the report (the spec reporter marks a failed suite
 * `✖ name`); all of them when the process failed outside their tests, or when the report
 * does not tell (a single file, or other reporters).
 */
function failedFiles(files: readonly string[], report: string, problems: string[]): string[] {
  if (files.length === 1 || problems.length > 0) return [...files];
  const marked = files.filter((file) => report.includes(`\n✖ ${file} (`));
  return marked.length > 0 ? marked : [...files];
}

/** The report without node's closing totals, and those totals. */
function takeSummary(output: string): { report: string; summary: Summary; reported: boolean } {
  const summary = emptySummary();
  let reported = false;
  const report = output.split('\n').filter((line) => {
    const match = summaryLine.exec(line.trimEnd());
    if (!match) return true;
    reported = true;
    if (match[1] !== 'duration_ms') summary[match[1] as keyof Summary] = Number(match[2]);
    return false;
  });
  return { report: report.join('\n'), summary, reported };
}
