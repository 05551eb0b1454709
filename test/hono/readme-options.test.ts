/**
 * The README's table of the Hono middleware's options (under "Usage with Hono") names
 * every option sessionMiddleware accepts, with the default it applies.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { COOKIE_OPTIONS, HONO_OPTIONS } from '../../src/adapters/hono-options.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The rows of the table under "## Usage with Hono": option -> [default, meaning]. */
function optionTable(): Map<string, string[]> {
  const section = readme.slice(readme.indexOf('\n## Usage with Hono\n'));
  const table = section.slice(section.indexOf('| middleware option |'));
  const rows = table.slice(0, table.indexOf('\n\n')).split('\n').slice(2);
  return new Map(
    rows.map((row) => {
      const [name = '', ...cells] = row.slice(1, -1).split(' | ');
      return [name.trim().replaceAll('`', ''), cells.map((cell) => cell.trim())];
    }),
  );
}

const options: Record<string, { defaultText: string }> = {
  ...HONO_OPTIONS,
  ...Object.fromEntries(Object.entries(COOKIE_OPTIONS).map(([name, o]) => [`cookie.${name}`, o])),
};

describe("the README's table of the Hono middleware's options", () => {
  const table = optionTable();

  it('names every option, and no other', () => {
    assert.deepEqual([...table.keys()].sort(), Object.keys(options).sort());
  });

  for (const [name, option] of Object.entries(options)) {
    it(`${name}: the default the middleware applies`, () => {
      const [defaultCell = '', meaning = ''] = table.get(name) ?? [];
      assert.equal(defaultCell, option.defaultText);
      assert.ok(meaning.length > 10, 'says what the option does');
    });
  }
});
