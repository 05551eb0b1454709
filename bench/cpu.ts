/** CPU time of a process and its children, from /proc (Linux), to see where time goes. */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

interface ProcStat {
  readonly ppid: number;
  readonly cpuTicks: number;
}

function readStat(pid: number): ProcStat | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // "pid (comm) state ppid ... utime(14) stime(15)": comm may hold spaces
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), cpuTicks: Number(fields[11]) + Number(fields[12]) };
  } catch {
    return undefined;
  }
}

/**
 * CPU milliseconds used so far by `pid` and its live children (PostgreSQL's backends are
 * children of the postmaster). Children that exited meanwhile are not counted.
 */
export function treeCpuMillis(pid: number | undefined): number {
  if (pid === undefined) return 0;
  let ticks = readStat(pid)?.cpuTicks ?? 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = readStat(Number(entry));
    if (stat?.ppid === pid) ticks += stat.cpuTicks;
  }
  return (ticks * 1000) / clockTicks();
}

/** The benchmark process's own CPU time, in milliseconds. */
export function ownCpuMillis(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}
