/**
 * Before a merge decodes the session another request wrote meanwhile, the handler checks it
 * against the grammar of PHP's unserializer (php/src/SerializedText.php): session_decode()
 * answers a failure by destroying the active session. Checked against session_decode()
 * itself, for each of PHP's serialize handlers: what PHP encodes is accepted; what the check
 * accepts, PHP reads (random text, and every truncation and one-byte change of PHP's own
 * encodings); on those changes both agree exactly.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { runPhp } from '../helpers/php.js';

const SCRIPT = fileURLToPath(new URL('./scripts/decodable.php', import.meta.url));
const SEED = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);

type Row = ['given' | 'encoded' | 'mutated', string, boolean | null, boolean];

/** Text made of the grammar's own tokens, so that much of it is nearly valid. */
const nearlySerialized = fc
  .array(
    fc.constantFrom(
      'a|',
      'b|',
      'i:1;',
      's:1:"x";',
      's:3:"x";',
      'a:1:{',
      'a:0:{}',
      '}',
      'N;',
      'b:1;',
      'd:0.5;',
      'd:1e5;',
      'O:8:"stdClass":0:{}',
      'E:3:"A:B";',
      '|',
      ';',
      ':',
      '"',
      'r:1;',
      '\u0001x',
      '\u0081',
    ),
    { maxLength: 12 },
  )
  .map((parts) => parts.join(''));

for (const handler of ['php', 'php_binary', 'php_serialize']) {
  describe(`SerializedText for session.serialize_handler = ${handler}`, () => {
    it('accepts what PHP encodes; what it accepts, session_decode() reads', async () => {
      const given = [
        ...fc.sample(nearlySerialized, { numRuns: 400, seed: SEED }),
        ...fc.sample(fc.string({ unit: 'binary', maxLength: 40 }), {
          numRuns: 100,
          seed: SEED + 1,
        }),
        '{"cookie":{},"a":1}',
        '',
        // php_binary: a name length with the high bit set (C2 here) is followed by a value
        // in PHP 8, not skipped as PHP 5 did (found with FC_SEED=983697707)
        '\u0081;E:3:"A:B";d:1e5;s:3:"x";O:8:"stdClass":0:{}s:1:"x";b:1;s:1:"x";"',
      ];
      const { stdout } = await runPhp(
        { file: SCRIPT, args: [handler] },
        { input: JSON.stringify(given) },
      );
      const rows = JSON.parse(stdout) as Row[];
      const shown = (row: Row) =>
        `${row[0]} ${JSON.stringify(Buffer.from(row[1], 'base64').toString('latin1'))}`;
      const encoded = rows.filter((r) => r[0] === 'encoded');
      assert.ok(encoded.length >= 5);
      assert.deepEqual(
        encoded.filter((r) => r[2] !== true || !r[3]).map(shown),
        [],
        'PHP encodings accepted and read',
      );
      assert.deepEqual(
        rows.filter((r) => r[2] === true && !r[3]).map(shown),
        [],
        `accepted but session_decode() fails (FC_SEED=${SEED})`,
      );
      const mutated = rows.filter((r) => r[0] === 'mutated');
      assert.ok(mutated.length > 1000, `${mutated.length} changed encodings`);
      assert.deepEqual(
        mutated.filter((r) => r[2] === false && r[3]).map(shown),
        [],
        'refused but PHP reads it',
      );
      assert.ok(
        mutated.some((r) => r[2] === false),
        'changes it refuses',
      );
    });
  });
}
