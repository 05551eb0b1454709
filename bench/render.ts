/**
 * `npx tsx bench/render.ts`: rewrites bench/results/results.md and chart.svg (and the
 * targets in results.json) from results.json, after a change to the report, without
 * running the benchmark again.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { writeReport } from './report.js';
import { judgeTargets, type Results } from './results.js';

const dir = fileURLToPath(new URL('./results', import.meta.url));
const results = JSON.parse(readFileSync(`${dir}/results.json`, 'utf8')) as Results;
results.targets = judgeTargets(results);
console.log(writeReport(results, dir).join('\n'));
