/**
 * PHP requests on sessions for the tests: each `phpRequest` is one PHP process (one request)
 * running the real session module with PgsqlSessionHandler (test/php/scripts/request.php),
 * driven by a list of steps, answering what PHP saw as JSON.
 */
import { fileURLToPath } from 'node:url';
import { runPhp } from './php.js';

const REQUEST_SCRIPT = fileURLToPath(new URL('../php/scripts/request.php', import.meta.url));

/** A step of a request: `['start']`, `['set', key, value]`, `['setField', value]`... (see request.php). */
export type PhpStep = readonly [string, ...unknown[]];

export interface PhpRequestSpec {
  /** PgsqlSessionHandler's options (`db` required). */
  readonly options: Record<string, unknown>;
  /** php.ini settings for this request. */
  readonly ini?: Record<string, string | number>;
  /** $_SERVER entries (REMOTE_ADDR...). */
  readonly server?: Record<string, string>;
  /** The session id to resume (session_id() before session_start()). */
  readonly id?: string;
  /** Default: `[['start']]`; the session is written when the request ends. */
  readonly steps?: readonly PhpStep[];
}

export interface PhpError {
  readonly class: string;
  /** The SPG_* code of a SessionPgsqlException. */
  readonly code: string | null;
  readonly sqlState: string | null;
  readonly message: string;
}

export interface PhpReply {
  /** session_id() at the end. */
  readonly id: string;
  /** $_SESSION at the end (before the write). */
  readonly data: Record<string, unknown> | null;
  /** What each step returned. */
  readonly results: unknown[];
  /** The exception a step (or the final write) threw, if any. */
  readonly error: PhpError | null;
}

/** Runs one PHP request; fails when PHP itself fails (a fatal error, a warning on stderr is kept). */
export async function phpRequest(spec: PhpRequestSpec): Promise<PhpReply & { stderr: string }> {
  const run = await runPhp({ file: REQUEST_SCRIPT }, { input: JSON.stringify(spec) });
  const line = run.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return { ...(JSON.parse(line) as PhpReply), stderr: run.stderr };
  } catch {
    throw new Error(`request.php printed no JSON:\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  }
}

/** Like `phpRequest`, but fails when the request ended with an exception. */
export async function phpOk(spec: PhpRequestSpec): Promise<PhpReply & { stderr: string }> {
  const reply = await phpRequest(spec);
  if (reply.error) {
    throw new Error(
      `PHP request failed: ${reply.error.code ?? reply.error.class}: ${reply.error.message}`,
    );
  }
  return reply;
}

const STORE_SCRIPT = fileURLToPath(new URL('../php/scripts/store.php', import.meta.url));

/** One operation of `phpStore`: a read, a write of encoded data, or a destroy. */
export type PhpStoreOp =
  | readonly ['read' | 'destroy' | 'handBack', string]
  | readonly ['write', string, string];

export type PhpStoreResult =
  | { readonly data: string | null; readonly server: number | null }
  | { readonly written: boolean }
  | { readonly destroyed: true }
  | { readonly looked: number }
  | { readonly error: string; readonly message: string };

/**
 * Runs operations on the PHP side's core (SessionStore), in order, in one PHP process (one
 * request): for tests that need many sessions. A write after a read of the same id in the
 * same call is a write of what was read (compare-and-set).
 */
export async function phpStore(
  options: Record<string, unknown>,
  ops: readonly PhpStoreOp[],
): Promise<PhpStoreResult[]> {
  const input = JSON.stringify({ options, ops: ops.map((op) => [op[0], op[1], op[2] ?? null]) });
  const run = await runPhp({ file: STORE_SCRIPT }, { input });
  return JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '') as PhpStoreResult[];
}
