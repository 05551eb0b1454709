import type { ExitCode } from './exit-codes.js';
import type { Flags, Parsed } from './flags.js';
import type { Output, Streams } from './output.js';

/** What a command runs with. */
export interface Context {
  readonly out: Output;
  readonly env: NodeJS.ProcessEnv;
  readonly streams: Streams;
}

/** One command of `session-pgsql`: its name, its `--help`, its flags and what it does. */
export interface Command {
  /** As typed: `gc`, `import connect-pg-simple`. */
  readonly name: string;
  /** One line, for the list of commands. */
  readonly summary: string;
  /** The arguments after the name in the usage line, e.g. `ID [options]`. */
  readonly usage: string;
  /** Paragraphs of `--help` after the usage line. */
  readonly description: string;
  readonly flags: Flags;
  /** Lines of examples, shown last in `--help`. */
  readonly examples?: readonly string[];
  run(parsed: Parsed, context: Context): Promise<ExitCode>;
}
