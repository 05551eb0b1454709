/** The README's error table is the reference for codes: every code, and no other. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ErrorCodes } from '../../src/index.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

describe("the README's error table", () => {
  it('has a row for every error code, and no other', () => {
    const section = readme.slice(readme.indexOf('\n## Errors\n'));
    const table = section.slice(section.indexOf('| code |'));
    const rows = table.slice(0, table.indexOf('\n\n')).split('\n').slice(2);
    const documented = rows.map((row) => row.match(/^\| `(SPG_[A-Z_]+)` \|/)?.[1]);
    assert.deepEqual(documented.sort(), Object.values(ErrorCodes).sort());
  });
});
