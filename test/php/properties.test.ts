/**
 * Property-based tests (fast-check) of PHP's session formats: for generated sessions,
 * what Node writes reads back and writes again the same; real PHP 8 reading it writes
 * the same bytes again (Node writes what PHP writes); floats are written as PHP writes
 * them; damaged texts are read or refused with a positioned Error, never anything else.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { PhpEnum, type PhpSession, setPhpClass } from '../../src/index.js';
import { phpFloatText } from '../../src/serializers/php-scalars.js';
import {
  HANDLERS,
  type Handler,
  reencodeInPhp,
  serializeFloatsInPhp,
  serializers,
} from './fixtures.js';

/** Sets every entry as an own property, `__proto__` included. */
function record(entries: readonly (readonly [string, unknown])[]): Record<string, unknown> {
  const object: Record<string, unknown> = {};
  for (const [key, value] of entries) {
    Object.defineProperty(object, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }
  return object;
}

const key = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.integer({ min: -1000, max: 1000 }).map(String),
  fc.constantFrom(
    '0',
    '1',
    '01',
    '-0',
    '1.5',
    '9223372036854775807',
    '9223372036854775808',
    '__proto__',
    'length',
    '',
  ),
);

const scalar = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.maxSafeInteger(),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.double(),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.string({ unit: 'grapheme', maxLength: 10 }),
  fc.constantFrom(
    new PhpEnum('Suit', 'Hearts'),
    new PhpEnum('Suit', 'Spades'),
    new PhpEnum('Status', 'Active'),
  ),
);

const { value } = fc.letrec<{
  value: unknown;
  list: unknown[];
  map: object;
  object: object;
  shared: object;
}>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    scalar,
    tie('list'),
    tie('map'),
    tie('object'),
    tie('shared'),
  ),
  list: fc.array(tie('value'), { maxLength: 4 }),
  map: fc.array(fc.tuple(key, tie('value')), { maxLength: 4 }).map(record),
  object: tie('map').map((map) => setPhpClass({ ...map }, 'stdClass')),
  /** One array or object in two places: a PHP reference or object handle. */
  shared: fc.oneof(tie('map'), tie('object')).map((inner) => ({ first: inner, second: inner })),
}));

/** A session each handler can hold: php names have no "|", php_binary names fit 127 bytes. */
function session(handler: Handler): fc.Arbitrary<PhpSession> {
  const name =
    handler === 'php'
      ? key.filter((k) => !k.includes('|'))
      : handler === 'php_binary'
        ? key.filter((k) => Buffer.byteLength(k) <= 127)
        : key;
  return fc.array(fc.tuple(name, value), { maxLength: 5 }).map(record);
}

describe('generated sessions', () => {
  for (const handler of HANDLERS) {
    it(`${handler}: stringify, parse, stringify gives the same text`, () => {
      const serializer = serializers[handler];
      fc.assert(
        fc.property(session(handler), (data) => {
          const text = serializer.stringify(data);
          const again = serializer.stringify(serializer.parse(text));
          assert.equal(again, text);
          assert.equal(serializer.stringify(serializer.parse(again)), text);
        }),
        { numRuns: 300 },
      );
    });

    it(`${handler}: real PHP reads what Node writes and writes the same bytes again`, async () => {
      const seed = Date.now();
      const sessions = fc.sample(session(handler), { numRuns: 150, seed });
      const texts = sessions.map((data) => serializers[handler].stringify(data));
      const again = await reencodeInPhp(texts.map((text) => ({ handler, text })));
      texts.forEach((text, i) => {
        assert.equal(
          again[i],
          text,
          `seed ${seed}, session ${i}: PHP wrote ${JSON.stringify(again[i])} for ${JSON.stringify(text)}`,
        );
      });
    });
  }
});

describe('floats', () => {
  it("Node writes each double as PHP's serialize() does", async () => {
    const seed = Date.now();
    const doubles = [
      ...fc.sample(fc.double(), { numRuns: 2000, seed }),
      ...fc.sample(
        fc.integer({ min: -400, max: 400 }).map((e) => 10 ** e),
        { numRuns: 200, seed },
      ),
      0.1,
      1,
      1e15,
      1e16,
      1e17,
      1e-4,
      1e-5,
      123456789012345680000,
      2 ** 53,
      -0,
      5e-324,
      Number.MAX_VALUE,
      Number.MIN_VALUE,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
    ];
    const php = await serializeFloatsInPhp(doubles);
    doubles.forEach((double, i) => {
      assert.equal(`d:${phpFloatText(double)};`, php[i], `seed ${seed}: ${double}`);
    });
  });
});

describe('damaged texts', () => {
  const damage = fc.tuple(
    fc.nat(),
    fc.constantFrom('truncate', 'delete', 'insert', 'digit'),
    fc.constantFrom('9', ';', ':', '"', '{', '}', 'a', 'é', '\u0001', '|'),
  );

  for (const handler of HANDLERS) {
    it(`${handler}: each is read, or refused with an Error naming the byte`, () => {
      const serializer = serializers[handler];
      fc.assert(
        fc.property(session(handler), damage, (data, [at, how, char]) => {
          const text = serializer.stringify(data);
          const i = text.length === 0 ? 0 : at % text.length;
          const damaged =
            how === 'truncate'
              ? text.slice(0, i)
              : how === 'delete'
                ? text.slice(0, i) + text.slice(i + 1)
                : how === 'insert'
                  ? text.slice(0, i) + char + text.slice(i)
                  : text.replace(/[0-9]/, (d) => String((Number(d) + 1) % 10));
          try {
            serializer.parse(damaged);
          } catch (error) {
            assert.equal((error as Error).constructor, Error);
            assert.match(
              (error as Error).message,
              new RegExp(`^${handler} session data: .+ at byte \\d+$`),
            );
          }
        }),
        { numRuns: 500 },
      );
    });
  }
});
