import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { commands } from '../../src/cli/program.js';
import { runCli } from './run-cli.js';

const names = [
  'init',
  'upgrade',
  'gc',
  'status',
  'import connect-pg-simple',
  'demo',
  'stats',
  'inspect',
  'revoke',
  'dashboard',
];

describe('session-pgsql usage', () => {
  it('--help lists every command in order, with the exit codes; exit code 0', async () => {
    const { code, stdout } = await runCli(['--help']);
    assert.equal(code, 0);
    assert.deepEqual(
      commands.map((c) => c.name),
      names,
    );
    const listed = [...stdout.matchAll(/^ {2}([a-z][a-z -]*?) {2,}/gm)].map((m) => m[1]);
    assert.deepEqual(listed, names);
    assert.match(
      stdout,
      /^Exit codes:\n {2}0 +done\n {2}1 +failed.*\n {2}2 +usage error.*\n {2}3 +a PostgreSQL server could not be reached/m,
    );
  });

  it('no command: the same help on stderr, usage error (2)', async () => {
    const { code, stdout, stderr } = await runCli([]);
    assert.equal(code, 2);
    assert.equal(stdout, '');
    assert.match(stderr, /^Usage: session-pgsql <command> \[options\]/);
  });

  it('an unknown command: usage error (2), naming the commands and no more of the line', async () => {
    const { code, stderr } = await runCli(['collect', '--db', 'postgres://u:secret@h/db']);
    assert.equal(code, 2);
    assert.match(stderr, /unknown command "collect"; the commands are: init, upgrade, gc/);
    assert.doesNotMatch(stderr, /secret/);
  });

  for (const name of names) {
    it(`${name} --help: its usage, what it does, its options`, async () => {
      const { code, stdout } = await runCli([...name.split(' '), '--help']);
      assert.equal(code, 0);
      assert.match(stdout, new RegExp(`^Usage: session-pgsql ${name} `));
      assert.match(stdout, /\nOptions:\n/);
      assert.match(stdout, /^ {2}-h, --help +show this help$/m);
      for (const line of stdout.split('\n')) assert.ok(line.length <= 100, `too long: ${line}`);
      if (name !== 'demo' && name !== 'dashboard')
        assert.match(stdout, /^ {6}--json +print the result as JSON on stdout$/m);
      if (name !== 'init' && name !== 'upgrade') assert.match(stdout, /--no-hash-ids|--table/);
    });
  }

  it('help COMMAND is COMMAND --help', async () => {
    const [help, flag] = await Promise.all([runCli(['help', 'gc']), runCli(['gc', '--help'])]);
    assert.equal(help.stdout, flag.stdout);
  });
});
