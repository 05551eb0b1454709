/**
 * One test file of `npm test`, run with node:test in a process of its own. Its report
 * (node's spec reporter) is printed in one piece once it ends, headed by the file's name,
 * counts and time; its closing totals are taken out and returned, to be added up.
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

export interface FileResult {
  readonly file: string;
  readonly ok: boolean;
  readonly summary: Summary;
}

export interface RunFileOptions {
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

const summaryLine = new RegExp(`^ℹ (${SUMMARY_KEYS.join('|')}|duration_ms) (\\d+(?:\\.\\d+)?)$`);
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill(); // e.g. on SIGINT: each cleans up its servers
});

export function emptySummary(): Summary {
  return { tests: 0, suites: 0, pass: 0, fail: 0, cancelled: 0, skipped: 0, todo: 0 };
}

/** Runs `file`; resolves once it ended and its report is printed. */
export function runFile(file: string, options: RunFileOptions): Promise<FileResult> {
  const started = performance.now();
  const reporters = options.ownReporters ? [] : ['--test-reporter=spec'];
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', ...reporters, ...options.nodeFlags, file],
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
      const counts = options.ownReporters ? '' : `${summary.tests} tests, ${summary.fail} failed, `;
      const lines = [`${ok ? '●' : '✖'} ${file} (${counts}${seconds} s)`, report.trimEnd()];
      for (const problem of problems) lines.push(`✖ ${file}: ${problem}`);
      console.log(`\n${lines.filter((line) => line !== '').join('\n')}`);
      resolve({ file, ok, summary });
    });
  });
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
