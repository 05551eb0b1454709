/**
 * What a fault test reports for docs/reliability.md (made by `npm run reliability`): one
 * line in the test output, written once every assertion of the test held.
 */
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

export interface FaultReport {
  /** The fault, as an operator would name it. */
  readonly fault: string;
  /** What the test did to cause it, for real. */
  readonly done: string;
  /** What held (what the test asserted). */
  readonly held: string;
  /** Sessions the test checked afterwards. */
  readonly sessions: number;
  /** Of those, sessions lost or changed back (the goal: zero). */
  readonly lost: number;
  /** Requests that failed, each with a coded error, while the fault lasted. */
  readonly failed: number;
}

/** Marks a line of the test output that `scripts/reliability-report.ts` collects. */
export const FAULT_REPORT = 'fault-report ';

export function reportFault(t: TestContext, moduleUrl: string, report: FaultReport): void {
  const file = fileURLToPath(moduleUrl).replace(/^.*?\/test\//, 'test/');
  t.diagnostic(`${FAULT_REPORT}${JSON.stringify({ ...report, file, test: t.name })}`);
}
