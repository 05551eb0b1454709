/** Streaming-replication standbys of the test servers (test/helpers/postgres.ts). */
import { execFile } from 'node:child_process';
import { chownSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { configure, type PostgresServer, pgCtl, serve } from './postgres.js';
import { runAs } from './processes.js';
import { claim, newDataPath } from './test-data.js';

const execFileAsync = promisify(execFile);

export interface StandbyOptions {
  /** Prefix of the standby's data dir name, and its `application_name` on the primary. Default `standby`. */
  name?: string;
}

/**
 * Makes a streaming-replication standby of `primary`: stops the primary (`fast`), copies its
 * data dir, starts the primary again, and starts the copy on a free port with
 * `standby.signal` and `primary_conninfo` (as the primary's superuser, `application_name` =
 * the name, so `synchronous_standby_names` can name it). Replication is asynchronous until
 * the primary is told otherwise. Resolves once the standby accepts (read-only) connections.
 */
export async function startStandby(
  primary: PostgresServer,
  options: StandbyOptions = {},
): Promise<PostgresServer> {
  const name = options.name ?? 'standby';
  const url = new URL(primary.url);
  const password = decodeURIComponent(url.password);
  const dataDir = newDataPath(name);
  await primary.stop('fast');
  try {
    await execFileAsync('cp', ['-a', primary.dataDir, dataDir]); // keeps owner and modes
  } finally {
    await primary.start();
  }
  try {
    claim(dataDir);
    rmSync(join(dataDir, 'postmaster.pid'), { force: true });
    rmSync(join(dataDir, 'postmaster.opts'), { force: true });
    const user = decodeURIComponent(url.username);
    const conninfo = `host=127.0.0.1 port=${primary.port} user=${user} password=${password} application_name=${name}`;
    configure(dataDir, { primary_conninfo: conninfo, hot_standby: 'on' });
    const signalFile = join(dataDir, 'standby.signal');
    writeFileSync(signalFile, '');
    const owner = runAs();
    if ('uid' in owner) chownSync(signalFile, owner.uid, owner.gid);
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  return serve(name, dataDir, password);
}

/** `pg_ctl promote -w`: the standby becomes a primary; resolves once it accepts writes. */
export function promoteStandby(standby: PostgresServer): Promise<void> {
  return pgCtl(standby, ['promote', '-w', '-t', '60']);
}
