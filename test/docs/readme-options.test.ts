/**
 * The README's option table is the options' documentation for users: it must name every
 * option the store accepts, with the default and the accepted values the store applies.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { optionTexts } from '../../src/options/options.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

/** The rows of the table under "## Options": option -> [default, accepted, meaning]. */
function optionTable(): Map<string, string[]> {
  const section = readme.slice(readme.indexOf('\n## Options\n'));
  const table = section.slice(section.indexOf('| option |'));
  const rows = table.slice(0, table.indexOf('\n\n')).split('\n').slice(2);
  return new Map(
    rows.map((row) => {
      const [name = '', ...cells] = row.slice(1, -1).split(' | ');
      return [name.trim().replaceAll('`', ''), cells.map((cell) => cell.trim())];
    }),
  );
}

describe("the README's option table", () => {
  const table = optionTable();

  it('names every option, and no other', () => {
    assert.deepEqual([...table.keys()].sort(), Object.keys(optionTexts).sort());
  });

  for (const [name, texts] of Object.entries(optionTexts)) {
    it(`${name}: the default and the accepted values the store applies`, () => {
      const [defaultCell = '', valuesCell = '', meaning = ''] = table.get(name) ?? [];
      assert.ok(
        defaultCell.startsWith(texts.defaultText),
        `README says ${defaultCell}, the store ${texts.defaultText}`,
      );
      assert.equal(valuesCell, texts.valuesText);
      assert.ok(meaning.length > 20, 'says what the option does');
    });
  }
});
