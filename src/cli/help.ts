import type { Command } from './command.js';
import type { Flags } from './flags.js';

const WIDTH = 100;

/** Wraps text at `WIDTH` columns, each line after the first indented by `indent`. */
function wrap(text: string, indent: number, first = indent): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter((w) => w !== '')) {
    const room = WIDTH - (lines.length === 0 ? first : indent);
    if (line !== '' && line.length + 1 + word.length > room) {
      lines.push(line);
      line = word;
    } else line = line === '' ? word : `${line} ${word}`;
  }
  lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}

function flagLines(flags: Flags): string[] {
  const heads = Object.entries(flags).map(([name, flag]) => {
    const short = flag.short ? `-${flag.short}, ` : '    ';
    return `  ${short}--${name}${flag.value ? ` ${flag.value}` : ''}`;
  });
  const column = Math.max(...heads.map((h) => h.length)) + 2;
  return Object.values(flags).map((flag, i) => {
    const head = (heads[i] as string).padEnd(column);
    return `${head}${wrap(flag.description, column, column)}`;
  });
}

/** `session-pgsql <command> --help`. */
export function commandHelp(command: Command): string {
  const parts = [
    `Usage: session-pgsql ${command.name} ${command.usage}`.trimEnd(),
    '',
    ...command.description.split('\n\n').flatMap((p) => [wrap(p, 0), '']),
    'Options:',
    ...flagLines(command.flags),
  ];
  if (command.examples?.length)
    parts.push('', 'Examples:', ...command.examples.map((e) => `  ${e}`));
  return `${parts.join('\n')}\n`;
}

/** `session-pgsql --help`: every command, in the order of the table. */
export function programHelp(commands: readonly Command[], exitCodes: string): string {
  const column = Math.max(...commands.map((c) => c.name.length)) + 4;
  return [
    'Usage: session-pgsql <command> [options]',
    '',
    wrap(
      'Operates the PostgreSQL session table of session-pgsql: sets it up, upgrades it, collects expired sessions, and reports on the servers. The database is --db or $SESSION_PGSQL_DB, with the same syntax as the store\'s "db" option.',
      0,
    ),
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(column - 2)}${wrap(c.summary, column, column)}`),
    '',
    'Run "session-pgsql <command> --help" for its options.',
    '',
    'Exit codes:',
    exitCodes,
    '',
  ].join('\n');
}
