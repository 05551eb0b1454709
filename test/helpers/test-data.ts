/**
 * Where the helpers keep servers' files: one folder per server (or template, or copy of the
 * PostgreSQL binaries) under the data root, each marked with the PID of the test process
 * that owns it, so that folders of a process that died without cleaning up are swept.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isAlive, runAs, signal } from './processes.js';

/** The file in each folder that names its owner's PID. */
export const ownerFile = 'test-owner.pid';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export function randomId(): string {
  return randomBytes(4).toString('hex');
}

/**
 * True if the OS user the servers run as can read (and, for a folder, enter) `path`: always
 * when that is the current user; as root, checked by running `test` as user `postgres`.
 */
export function reachableByServers(path: string): boolean {
  const user = runAs();
  if (!('uid' in user)) return true;
  return (
    spawnSync('test', ['-r', path, '-a', '-x', path], { ...user, stdio: 'ignore' }).status === 0
  );
}

let root: string | undefined;

/**
 * `.test-data` in the repository, or, when the servers' OS user cannot reach it (root's
 * checkout in a private folder), `session-pgsql-test-data` in the temp folder.
 */
export function dataRoot(): string {
  if (root !== undefined) return root;
  const inRepo = join(repoRoot, '.test-data');
  mkdirSync(inRepo, { recursive: true });
  if (reachableByServers(inRepo)) {
    root = inRepo;
  } else {
    root = join(tmpdir(), 'session-pgsql-test-data');
    mkdirSync(root, { recursive: true, mode: 0o755 });
  }
  sweepOrphans(root);
  return root;
}

/** A new folder path `<name>-<random>` under the data root (not created). */
export function newDataPath(name: string): string {
  return join(dataRoot(), `${name}-${randomId()}`);
}

/** Marks `dir` as owned by this process. */
export function claim(dir: string, owner = runAs()): void {
  const file = join(dir, ownerFile);
  writeFileSync(file, String(process.pid));
  if ('uid' in owner) spawnSync('chown', [`${owner.uid}:${owner.gid}`, file]);
}

/** PID of the process that owns `dir`, or undefined. */
function ownerOf(dir: string): number | undefined {
  try {
    return Number(readFileSync(join(dir, ownerFile), 'utf8')) || undefined;
  } catch {
    return undefined; // being set up, or not ours
  }
}

/**
 * Removes the folders (stopping their server) whose test process died without its exit
 * hook, e.g. `npm test` SIGKILLed (tsx does that when its child is slow to acknowledge a
 * signal).
 */
function sweepOrphans(under: string): void {
  for (const entry of readdirSync(under)) {
    const dir = join(under, entry);
    const owner = ownerOf(dir);
    if (owner === undefined || isAlive(owner)) continue;
    if (existsSync(join(dir, 'postmaster.pid'))) stopOrphan(dir);
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Stops an orphan's server the way `pg_ctl stop -m immediate` does (SIGQUIT to the
 * postmaster), if the PID in its postmaster.pid still is that server.
 */
function stopOrphan(dataDir: string): void {
  let pid: number;
  try {
    pid = Number(readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (!command.includes(dataDir)) return; // the PID was reused
  } catch {
    return; // no such process
  }
  signal(pid, 'SIGQUIT');
  const deadline = Date.now() + 30_000;
  while (isAlive(pid) && Date.now() < deadline) spawnSync('sleep', ['0.05']);
  if (isAlive(pid)) signal(pid, 'SIGKILL');
}
