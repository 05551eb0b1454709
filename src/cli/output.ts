import { ErrorCodes, SessionPgsqlError } from '../errors.js';

/** Where a command writes: stdout for its result, stderr for progress and errors. */
export interface Streams {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

/** What a command prints: a line of text, or its result as JSON with `--json`. */
export class Output {
  readonly #streams: Streams;
  readonly json: boolean;
  #progressShown = false;

  constructor(streams: Streams, json: boolean) {
    this.#streams = streams;
    this.json = json;
  }

  /** A line of the human-readable output (nothing with `--json`). */
  line(text = ''): void {
    if (!this.json) this.#write(`${text}\n`);
  }

  /** The result as one JSON document (only with `--json`). */
  result(value: unknown): void {
    if (this.json) this.#write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** Text printed whatever the flags: `--print`'s SQL, `--help`. */
  text(text: string): void {
    this.#write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /** A note on stderr, kept out of the data on stdout. */
  note(text: string): void {
    this.#clearProgress();
    this.#streams.stderr.write(`${text}\n`);
  }

  /**
   * A progress bar on stderr, redrawn in place, only when stderr is a terminal: a cron job's
   * log or a pipe gets the summary line alone. `total` undefined draws a count.
   */
  progress(done: number, total: number | undefined, label: string): void {
    const { stderr } = this.#streams;
    if (!stderr.isTTY) return;
    const width = 30;
    let bar = '';
    if (total !== undefined && total > 0) {
      const filled = Math.min(width, Math.round((done / total) * width));
      bar = `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${done}/${total} `;
    }
    const line = `${bar}${label}`.slice(0, Math.max(20, (stderr.columns || 80) - 1));
    stderr.write(`\r\x1b[2K${line}`);
    this.#progressShown = true;
  }

  /** An error: `session-pgsql <command>: <message> (<code>)`, or as JSON on stderr with `--json`. */
  error(command: string, error: unknown): void {
    this.#clearProgress();
    const coded = error instanceof SessionPgsqlError;
    const code = coded ? error.code : undefined;
    const message = error instanceof Error ? error.message : String(error);
    const hint = hintFor(error);
    if (this.json) {
      const body = { error: { code: code ?? null, message, ...(hint ? { hint } : {}) } };
      this.#streams.stderr.write(`${JSON.stringify(body)}\n`);
      return;
    }
    const prefix = command ? `session-pgsql ${command}` : 'session-pgsql';
    this.#streams.stderr.write(
      `${prefix}: ${message}${code ? ` (${code})` : ''}\n${hint ? `${hint}\n` : ''}`,
    );
  }

  #clearProgress(): void {
    if (!this.#progressShown) return;
    this.#progressShown = false;
    this.#streams.stderr.write('\r\x1b[2K');
  }

  #write(text: string): void {
    this.#clearProgress();
    this.#streams.stdout.write(text);
  }
}

/** What to do next, for the errors an operator meets first. */
function hintFor(error: unknown): string | undefined {
  if (!(error instanceof SessionPgsqlError)) return undefined;
  if (error.code === ErrorCodes.TABLE_UPGRADE_NEEDED)
    return 'run "session-pgsql upgrade" as the role that owns the table';
  if (error.code === ErrorCodes.TABLE_SETUP_FAILED && /does not exist/.test(error.message))
    return 'run "session-pgsql init" first';
  return undefined;
}
