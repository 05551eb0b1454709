/**
 * One app process with a store whose cache is on, driven by the test over stdin/stdout:
 * one JSON command per line in, one JSON reply per line out, each reply stamped with the
 * wall-clock time (`at`, milliseconds) so that the test can compare two processes' moments.
 * Usage: cache-worker.ts <options as JSON>
 */
import { createInterface } from 'node:readline';
import { SessionPgsql, type SessionPgsqlOptions } from '../../../src/index.js';

type Data = Record<string, unknown>;

export type Command =
  | { op: 'write'; id: string; data: Data; lifetimeSeconds?: number }
  | { op: 'read'; id: string }
  | { op: 'destroy'; id: string }
  | { op: 'clear' }
  | { op: 'status' }
  | { op: 'close' }
  /** Reads `id` over and over (yielding to the event loop in between) until it is gone or holds `equals`. */
  | { op: 'watch'; id: string; equals?: Data; guardMillis: number };

export interface Reply {
  seq: number;
  ok: boolean;
  /** Wall-clock milliseconds (sub-millisecond precision) when the command finished. */
  at: number;
  result?: unknown;
  error?: string;
}

/** What `read` answers: the data (null when absent), its accesses, and the SQL reads it cost. */
export interface ReadResult {
  data: Data | null;
  accesses: number | null;
  sqlReads: number;
}

export interface StatusResult {
  enabled: boolean;
  entries: number;
  statements: Record<string, number>;
}

export interface WatchResult {
  /** Wall-clock milliseconds when a read first returned the new value (or nothing). */
  seenAt: number;
  /** Reads that returned the old value, and how many of them reached the database. */
  polls: number;
  sqlReadsWhileOld: number;
}

const options = JSON.parse(process.argv[2] ?? '{}') as SessionPgsqlOptions<Data>;
const store = new SessionPgsql<Data>(options);
const now = () => performance.timeOrigin + performance.now();
const yieldToEvents = () => new Promise<void>((resolve) => setImmediate(resolve));

async function status(): Promise<StatusResult> {
  const server = (await store.status()).servers[0];
  return {
    enabled: server?.cache?.enabled ?? false,
    entries: server?.cache?.entries ?? 0,
    statements: { ...server?.statements },
  };
}

async function sqlReads(): Promise<number> {
  return (await store.status()).servers[0]?.statements.read ?? 0;
}

async function run(command: Command): Promise<unknown> {
  switch (command.op) {
    case 'write':
      return store.write(command.id, command.data, {
        lifetimeSeconds: command.lifetimeSeconds,
      });
    case 'read': {
      const before = await sqlReads();
      const loaded = await store.read(command.id);
      const result: ReadResult = {
        data: loaded?.data ?? null,
        accesses: loaded?.state.info().accesses ?? null,
        sqlReads: (await sqlReads()) - before,
      };
      return result;
    }
    case 'destroy':
      return store.destroy(command.id);
    case 'clear':
      return store.clear();
    case 'status':
      return status();
    case 'close':
      return store.close();
    case 'watch': {
      const deadline = now() + command.guardMillis;
      const target = command.equals === undefined ? null : JSON.stringify(command.equals);
      const before = await sqlReads();
      let polls = 0;
      console.log(JSON.stringify({ watching: command.id }));
      for (;;) {
        const data = (await store.read(command.id))?.data;
        if ((data === undefined ? null : JSON.stringify(data)) === target) {
          const seenAt = now();
          // the read that saw the change went to the database; every other one may not have
          const result: WatchResult = {
            seenAt,
            polls,
            sqlReadsWhileOld: (await sqlReads()) - before - 1,
          };
          return result;
        }
        polls += 1;
        if (now() > deadline) {
          throw new Error(
            `still served the old value after ${command.guardMillis} ms (${polls} reads, ${(await sqlReads()) - before} from the database)`,
          );
        }
        await yieldToEvents();
      }
    }
  }
}

let seq = 0;
const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  seq += 1;
  const mine = seq;
  run(JSON.parse(line) as Command).then(
    (result) => {
      const reply: Reply = { seq: mine, ok: true, at: now(), result: result ?? null };
      console.log(JSON.stringify(reply));
    },
    (error: unknown) => {
      const reply: Reply = { seq: mine, ok: false, at: now(), error: String(error) };
      console.log(JSON.stringify(reply));
    },
  );
});
lines.once('close', () => {
  void store.close();
});
console.log(JSON.stringify({ ready: true }));
