/**
 * Damaged and hostile session data: each case is an Error naming what is wrong and the
 * byte where, at once (no hang, nothing allocated by a count read from the data), and
 * real PHP 8 refuses the same text too, except where Node is stricter than PHP (said so
 * in each case). Session values Node cannot write in a PHP format are errors too.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PhpEnum, setPhpClass } from '../../src/index.js';
import { MAX_DEPTH } from '../../src/serializers/php-reader.js';
import { decodeInPhp, type Handler, serializers } from './fixtures.js';

interface Hostile {
  readonly title: string;
  readonly handler: Handler;
  readonly text: string;
  readonly error: RegExp;
  /** PHP's session_decode() accepts this text; Node refuses it (why is in the title). */
  readonly phpAccepts?: true;
}

const deep = (levels: number) => `k|${'a:1:{i:0;'.repeat(levels)}N;${'}'.repeat(levels)}`;

const cases: readonly Hostile[] = [
  {
    title: 'truncated string',
    handler: 'php',
    text: 'k|s:5:"hel',
    error: /string s:5 goes past the end of the data \(3 bytes left\) at byte 7$/,
  },
  {
    title: 'string length shorter than the string',
    handler: 'php',
    text: 'k|s:2:"hello";',
    error: /expected "\\"" after the string s:2, found "l" at byte 9$/,
  },
  {
    title: 'string length beyond the input',
    handler: 'php_binary',
    text: '\u0001ks:999:"x";',
    error: /the string length 999 is larger than the whole data \(12 bytes\) at byte 4$/,
  },
  {
    title: 'huge array count',
    handler: 'php',
    text: 'k|a:999999999:{',
    error: /the array size 999999999 is larger than the whole data \(15 bytes\) at byte 4$/,
  },
  {
    title: 'array count larger than the elements that follow could be',
    handler: 'php_serialize',
    text: 'a:1:{s:1:"k";a:5:{i:0;i:0;}}',
    error: /the array claims 5 elements, more than the 10 bytes left can hold at byte 18$/,
  },
  {
    title: 'huge object property count',
    handler: 'php',
    text: 'k|O:8:"stdClass":99999999999:{}',
    error: /the object size of 11 digits is larger than the whole data \(31 bytes\) at byte 17$/,
  },
  {
    title: `nesting deeper than ${MAX_DEPTH} levels (PHP's unserialize_max_depth is 4096)`,
    handler: 'php',
    text: deep(5000),
    error: new RegExp(`nested deeper than ${MAX_DEPTH} levels at byte ${2 + 9 * MAX_DEPTH + 5}$`),
  },
  {
    title: `nesting deeper than ${MAX_DEPTH} levels, within PHP's limit: Node is stricter`,
    handler: 'php',
    text: deep(MAX_DEPTH + 1),
    error: /nested deeper than 512 levels/,
    phpAccepts: true,
  },
  {
    title: 'string length ending inside a multibyte character',
    handler: 'php',
    text: 'k|s:1:"é";',
    error:
      /the string s:1 ends inside a multibyte character \(PHP counts lengths in UTF-8 bytes\) at byte 8$/,
  },
  {
    title: 'string length counting characters instead of bytes',
    handler: 'php_serialize',
    text: 'a:1:{s:1:"k";s:4:"漢字";}',
    error: /the string s:4 ends inside a multibyte character/,
  },
  {
    title: 'php_binary name length with the high bit set (a byte a UTF-8 text cannot hold alone)',
    handler: 'php_binary',
    text: '\u0081ai:1;',
    error: /expected the length of a session name \(a byte below 128\), found byte 0xc2 at byte 0$/,
  },
  {
    title: 'php_binary name longer than the data',
    handler: 'php_binary',
    text: '\u0010abc',
    error: /the session name of 16 bytes and its value go past the end of the data at byte 0$/,
  },
  {
    title: 'php_binary name ending inside a multibyte character',
    handler: 'php_binary',
    text: '\u0001éi:1;',
    error: /the session name of 1 bytes ends inside a multibyte character at byte 0$/,
  },
  {
    title: 'php name without "|"',
    handler: 'php',
    text: 'a|i:1;junk',
    error: /expected a session name ending in "\|", found none at byte 6$/,
  },
  {
    title: 'no value after the name',
    handler: 'php',
    text: 'k|',
    error: /expected a value, found the end of the data at byte 2$/,
  },
  {
    title: 'unknown type',
    handler: 'php',
    text: 'k|x:1;',
    error: /expected a value, found "x" at byte 2$/,
  },
  {
    title: 'boolean other than 0 or 1',
    handler: 'php',
    text: 'k|b:2;',
    error: /expected 0 or 1 after "b:", found "2" at byte 4$/,
  },
  {
    title: 'float without digits',
    handler: 'php',
    text: 'k|d:1e;',
    error: /expected a float \(digits, INF or NAN\) and ";" at byte 4$/,
  },
  {
    title: 'integer beyond 64 bits (PHP reads PHP_INT_MAX with a warning): Node refuses',
    handler: 'php',
    text: 'k|i:9223372036854775808;',
    error: /integer out of the range of PHP ints \(64 bits\) at byte 4$/,
    phpAccepts: true,
  },
  {
    title: 'array key that is neither i: nor s:',
    handler: 'php',
    text: 'k|a:1:{d:1.5;i:1;}',
    error: /expected a key \(i: or s:\), found "d" at byte 7$/,
  },
  {
    title: 'array without its closing brace',
    handler: 'php',
    text: 'k|a:1:{i:0;i:1;;',
    error: /expected "}" after the 1 elements of the array, found ";" at byte 15$/,
  },
  {
    title: 'reference to a value that does not exist',
    handler: 'php',
    text: 'k|R:5;',
    error: /R:5 refers to value 5, but 0 values came before at byte 2$/,
  },
  {
    title: 'reference number 0',
    handler: 'php',
    text: 'a|i:1;b|R:0;',
    error: /R:0 refers to value 0, but 1 values came before at byte 8$/,
  },
  {
    title: 'object handle to a value that is not an object',
    handler: 'php',
    text: 'a|a:0:{}b|r:1;',
    error: /r: refers to a value that is not an object at byte 10$/,
  },
  {
    title: 'object handle to itself',
    handler: 'php',
    text: 'a|r:1;',
    error: /r:1 refers to value 1, but 0 values came before at byte 2$/,
  },
  {
    title: 'invalid class name',
    handler: 'php',
    text: 'k|O:3:"a-b":0:{}',
    error: /not a valid PHP class name at byte 3$/,
  },
  {
    title: 'class name length beyond the class name',
    handler: 'php',
    text: 'k|O:9:"stdClass":0:{}',
    error: /expected "\\"" after the class name, found ":" at byte 16$/,
  },
  {
    title: 'enum without a case',
    handler: 'php',
    text: 'k|E:4:"Suit";',
    error: /expected an enum case "Class:Case" after "E:" at byte 2$/,
  },
  {
    title: 'Serializable data longer than the input',
    handler: 'php',
    text: 'k|C:6:"Legacy":20:{ab}',
    error: /the Serializable data goes past the end of the data \(3 bytes left\) at byte 19$/,
  },
  {
    title: 'php_serialize data that is not an array (PHP makes $_SESSION that value): Node refuses',
    handler: 'php_serialize',
    text: 'i:5;',
    error: /expected the session array "a:", found "i" at byte 0$/,
    phpAccepts: true,
  },
  {
    title: 'text after the php_serialize array (PHP ignores it): Node refuses',
    handler: 'php_serialize',
    text: 'a:0:{}junk',
    error: /expected the end of the data after the session array at byte 6$/,
    phpAccepts: true,
  },
  {
    title: 'escaped string S:, which PHP 8 never writes (PHP still reads it): Node refuses',
    handler: 'php',
    text: 'k|S:1:"\\41";',
    error: /escaped strings \(S:\), which PHP 8 never writes, are not supported at byte 2$/,
    phpAccepts: true,
  },
];

describe('hostile session data: a clear error with the byte offset', () => {
  for (const c of cases) {
    it(`${c.handler}: ${c.title}`, () => {
      assert.throws(
        () => serializers[c.handler].parse(c.text),
        (error: unknown) => {
          assert.ok(error instanceof Error);
          assert.match(error.message, new RegExp(`^${c.handler} session data: `));
          assert.match(error.message, c.error);
          return true;
        },
      );
    });
  }

  it('text that is not valid Unicode (a lone surrogate)', () => {
    assert.throws(
      () => serializers.php.parse('k|s:3:"\ud800";'),
      /php session data: the text is not valid Unicode \(a lone surrogate\) at byte 0$/,
    );
  });

  it('real PHP refuses the same texts (except those marked as accepted, where Node is stricter)', async () => {
    const results = await decodeInPhp(
      cases.map((c) => ({ handler: c.handler, text: c.text, set: 'php', name: 'empty' })),
    );
    results.forEach((result, i) => {
      const c = cases[i];
      assert.ok(c);
      assert.equal(result.read, c.phpAccepts === true, `${c.handler}: ${c.title}`);
    });
  });
});

describe('sessions Node cannot write in a PHP format: a clear error', () => {
  const refused: [string, Handler, unknown, RegExp][] = [
    [
      'a name with "|" in php',
      'php',
      { 'a|b': 1 },
      /the session name "a\|b" contains "\|", which the php format cannot hold/,
    ],
    [
      'a name over 127 bytes in php_binary',
      'php_binary',
      { ['é'.repeat(64)]: 1 },
      /is 128 bytes, more than the 127 that php_binary can hold/,
    ],
    [
      'a lone surrogate',
      'php_serialize',
      { k: '\udc00' },
      /a string is not valid Unicode \(a lone surrogate\)/,
    ],
    [
      'a bigint past 64 bits',
      'php',
      { k: 2n ** 63n },
      /the bigint 9223372036854775808 does not fit a PHP int \(64 bits\)/,
    ],
    [
      'nesting past the limit',
      'php',
      { k: nested(MAX_DEPTH + 1) },
      /nests arrays and objects deeper than 512 levels/,
    ],
    [
      'a session that is not an object',
      'php_serialize',
      'text',
      /php_serialize session data must be an object of session variables, got string/,
    ],
    [
      'a session that is an enum',
      'php',
      new PhpEnum('Suit', 'Hearts'),
      /must be an object of session variables/,
    ],
  ];
  for (const [title, handler, data, error] of refused) {
    it(`${handler}: ${title}`, () => {
      assert.throws(() => serializers[handler].stringify(data as Record<string, unknown>), error);
    });
  }

  it('an invalid class name is refused when it is given', () => {
    assert.throws(() => setPhpClass({}, 'not-a-class'), /not a PHP class name: "not-a-class"/);
  });
});

function nested(levels: number): unknown {
  let value: unknown = null;
  for (let i = 0; i < levels; i++) value = [value];
  return value;
}
