import type { Command, Context } from './command.js';
import { dashboard } from './commands/dashboard.js';
import { demo } from './commands/demo.js';
import { gc } from './commands/gc.js';
import { importConnectPgSimpleCommand } from './commands/import-connect-pg-simple.js';
import { init } from './commands/init.js';
import { inspect } from './commands/inspect.js';
import { revoke } from './commands/revoke.js';
import { stats } from './commands/stats.js';
import { status } from './commands/status.js';
import { upgrade } from './commands/upgrade.js';
import { type ExitCode, ExitCodes, exitCodeOf } from './exit-codes.js';
import { parseFlags, usageError } from './flags.js';
import { commandHelp, programHelp } from './help.js';
import { Output, type Streams } from './output.js';

/** Every command, in the order `--help` lists them. */
export const commands: readonly Command[] = [
  init,
  upgrade,
  gc,
  status,
  importConnectPgSimpleCommand,
  demo,
  stats,
  inspect,
  revoke,
  dashboard,
];

const EXIT_CODES = [
  '  0  done',
  '  1  failed (PostgreSQL refused a statement, the table is missing or needs an upgrade...)',
  '  2  usage error (unknown command or flag, a bad value, no database given)',
  '  3  a PostgreSQL server could not be reached (status: a server is down)',
].join('\n');

/** The command named by the first arguments (`import connect-pg-simple` takes two). */
function find(args: readonly string[]): { command: Command; rest: readonly string[] } | undefined {
  for (const command of commands) {
    const words = command.name.split(' ');
    if (words.every((word, i) => args[i] === word))
      return { command, rest: args.slice(words.length) };
  }
  return undefined;
}

export interface ProgramSettings {
  readonly streams: Streams;
  readonly env: NodeJS.ProcessEnv;
}

/** Runs the command line `args` (without node and the script) and resolves its exit code. */
export async function runProgram(
  args: readonly string[],
  settings: ProgramSettings,
): Promise<ExitCode> {
  const { streams, env } = settings;
  const first = args[0];
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    const topic = first === 'help' && args.length > 1 ? find(args.slice(1)) : undefined;
    const help = topic ? commandHelp(topic.command) : programHelp(commands, EXIT_CODES);
    (first === undefined ? streams.stderr : streams.stdout).write(help);
    if (first === 'help' && args.length > 1 && !topic) return unknown(args.slice(1), streams);
    return first === undefined ? ExitCodes.USAGE : ExitCodes.OK;
  }
  const found = find(args);
  if (!found) return unknown(args, streams);
  const { command, rest } = found;
  const json = rest.includes('--json');
  const out = new Output(streams, json);
  try {
    const parsed = parseFlags(rest, command.flags);
    if (parsed.values.help === true) {
      out.text(commandHelp(command));
      return ExitCodes.OK;
    }
    const context: Context = { out, env, streams };
    return await command.run(parsed, context);
  } catch (error) {
    out.error(command.name, error);
    const code = exitCodeOf(error);
    if (code === ExitCodes.USAGE && !json)
      streams.stderr.write(`Run "session-pgsql ${command.name} --help" for its options.\n`);
    return code;
  }
}

function unknown(args: readonly string[], streams: Streams): ExitCode {
  const out = new Output(streams, false);
  const names = commands.map((c) => c.name).join(', ');
  // only the words that could name a command: the rest may hold a password
  const words = args.slice(0, args[0] === 'import' ? 2 : 1).filter((a) => !a.startsWith('-'));
  out.error('', usageError(`unknown command "${words.join(' ')}"; the commands are: ${names}`));
  streams.stderr.write('Run "session-pgsql --help" for the list.\n');
  return ExitCodes.USAGE;
}
