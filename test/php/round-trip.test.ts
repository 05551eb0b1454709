/**
 * Sessions PHP 8 writes (session_encode() with each session.serialize_handler, and
 * serialize()) read in Node as plain JavaScript values and are written back byte for
 * byte; changed, they are written the way PHP writes the same change.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { getPhpClass, PhpEnum, PhpSerializable, type PhpSession } from '../../src/index.js';
import { PhpReader } from '../../src/serializers/php-reader.js';
import { PhpWriter } from '../../src/serializers/php-writer.js';
import {
  changes,
  decodeInPhp,
  type Encoded,
  encodeInPhp,
  HANDLERS,
  type Handler,
  serializers,
} from './fixtures.js';

let encoded: Encoded;
before(async () => {
  encoded = await encodeInPhp();
});

const caseNames = (handler: Handler | 'serialize') => Object.keys(encoded[handler]);

/** A case read with the given handler. */
function read(handler: Handler, name: string): PhpSession {
  const text = encoded[handler][name];
  assert.ok(text !== undefined, `PHP wrote ${handler} ${name}`);
  return serializers[handler].parse(text);
}

describe('PHP writes, Node writes back the same bytes', () => {
  for (const handler of HANDLERS) {
    it(`${handler}: every case`, () => {
      const names = caseNames(handler);
      assert.ok(names.length >= 10, `cases: ${names.join(', ')}`);
      for (const name of names) {
        const text = encoded[handler][name] ?? '';
        const serializer = serializers[handler];
        const parsed = serializer.parse(text);
        assert.equal(serializer.stringify(parsed), text, `${handler} ${name}`);
        // Reading it again gives the same again (what is kept survives a second round).
        assert.equal(serializer.stringify(serializer.parse(serializer.stringify(parsed))), text);
      }
    });
  }

  it("serialize(): PHP's value format, the same bytes", () => {
    for (const name of caseNames('serialize')) {
      const text = encoded.serialize[name] ?? '';
      const reader = new PhpReader(text, 'serialize()');
      const value = reader.value(undefined, '');
      assert.ok(reader.atEnd);
      const writer = new PhpWriter();
      assert.equal(writer.value(value, {}, '', undefined, false), text, name);
    }
  });
});

describe('numbers in forms PHP reads but does not write', () => {
  it('are read as PHP reads them and written back as they were while unchanged', () => {
    const forms: [string, unknown][] = [
      ['i:+5;', 5],
      ['i:007;', 7],
      ['i:-0;', 0],
      ['i:-00012;', -12],
      ['i:0000000000000000009223372036854775807;', 9223372036854775807n],
      ['d:1.50;', 1.5],
      ['d:1e3;', 1000],
      ['d:.5;', 0.5],
      ['d:5.;', 5],
      ['d:-1.5E-7;', -1.5e-7],
      ['d:1e-7;', 1e-7],
      ['d:0.30000000000000004;', 0.30000000000000004],
    ];
    for (const [form, value] of forms) {
      const text = `k|${form}`;
      const parsed = serializers.php.parse(text);
      assert.ok(Object.is(parsed.k, value), `${form} reads as ${String(parsed.k)}`);
      assert.equal(serializers.php.stringify(parsed), text);
    }
    for (const canonical of ['i:0;', 'i:-12;', 'i:5;', 'd:0.5;', 'd:1.5E-7;', 'd:-0;']) {
      const parsed = serializers.php.parse(`k|${canonical}`);
      assert.equal(serializers.php.stringify({ k: parsed.k }), `k|${canonical}`, canonical);
    }
  });
});

describe('what Node reads', () => {
  it('strings: text, multibyte included (PHP counts bytes, Node reads characters)', () => {
    for (const handler of HANDLERS) {
      const s = read(handler, 'strings');
      assert.equal(s.multibyte, 'é ü 漢字 🔑');
      assert.equal(s.clé, 'multibyte session name');
      assert.equal(s.syntax, 'a|b;c:"d"{}');
      assert.equal(s.nul, 'a\0b');
      assert.equal(s.empty, '');
    }
  });

  it('ints: numbers, and bigints past 2^53 (PHP_INT_MAX, PHP_INT_MIN)', () => {
    const s = read('php', 'ints');
    assert.deepEqual(s, {
      zero: 0,
      negative: -1,
      answer: 42,
      max: 9223372036854775807n,
      min: -9223372036854775808n,
      safe: 9007199254740991,
      unsafe: 9007199254740993n,
    });
  });

  it('floats: numbers (1.0 reads as 1, written back as d:1), INF, NAN, -0', () => {
    const s = read('php_binary', 'floats');
    assert.equal(s.one, 1);
    assert.equal(s.hundred, 100);
    assert.equal(s.tenth, 0.1);
    assert.equal(s.big, 1e100);
    assert.ok(Object.is(s.negativeZero, -0));
    assert.equal(s.inf, Number.POSITIVE_INFINITY);
    assert.equal(s.negativeInf, Number.NEGATIVE_INFINITY);
    assert.ok(Number.isNaN(s.nan));
    assert.equal(s.twoPow53, 2 ** 53);
    assert.equal(s.max, Number.MAX_VALUE);
  });

  it('booleans and null', () => {
    assert.deepEqual(read('php', 'scalars'), { yes: true, no: false, nothing: null });
  });

  it('arrays: lists as arrays, others as objects; __proto__ is a plain key', () => {
    const s = read('php_serialize', 'arrays');
    assert.deepEqual(s.list, [1, 2, 3]);
    assert.deepEqual(s.empty, []);
    assert.deepEqual(s.map, { a: 1, b: { c: [] } });
    assert.deepEqual(s.outOfOrder, { 2: 'b', 5: 'a', 9: 'c' });
    assert.deepEqual(Object.keys(s.mixed as object), ['0', 'x', 'y']);
    assert.deepEqual(s.bigKeys, { '9223372036854775807': 'max', '-9223372036854775808': 'min' });
    assert.deepEqual(s.nested, [[[[['deep']]]]]);
    assert.deepEqual(s.listOfMaps, [{ id: 1 }, { id: 2 }]);
    const proto = s.proto as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(proto), Object.prototype);
    assert.deepEqual(Object.getOwnPropertyDescriptor(proto, '__proto__')?.value, { admin: true });
    assert.equal((proto as { admin?: unknown }).admin, undefined);
  });

  it('a user session reads naturally: user.name, user.roles[0]', () => {
    const s = read('php', 'user') as { user: { name: string; roles: string[] }; counter: number };
    assert.equal(s.user.name, 'ann');
    assert.equal(s.user.roles[0], 'admin');
    assert.equal(s.counter, 3);
  });

  it('objects: plain objects with their class; protected and private names as PHP writes them', () => {
    const s = read('php', 'objects') as Record<string, Record<string, unknown>>;
    const { std, user, admin, point, packed, legacy } = s;
    assert.ok(std && user && admin && point && packed);
    assert.equal(getPhpClass(std), 'stdClass');
    assert.equal(std.name, 'ann');
    assert.equal(std[1], 'numeric property');
    assert.equal(getPhpClass(user), 'User');
    assert.deepEqual(user, { name: 'ann', '\0*\0role': 'admin', '\0User\0secret': 1 });
    assert.equal(admin['\0Admin\0secret'], 'own');
    assert.equal(admin['\0User\0secret'], 1);
    assert.equal(getPhpClass(point.next as object), 'Point');
    assert.deepEqual(packed, { 0: 1, 5: 'x', k: 2 });
    assert.ok(legacy instanceof PhpSerializable);
    assert.deepEqual({ ...legacy }, { className: 'Legacy', data: 'é;}"' });
    assert.equal(getPhpClass(s.date as object), 'DateTimeImmutable');
  });

  it('enums: PhpEnum values', () => {
    const s = read('php_serialize', 'enums');
    assert.ok(s.suit instanceof PhpEnum);
    assert.equal(String(s.suit), 'Suit::Hearts');
    assert.equal(s.again, s.suit);
    assert.deepEqual(s.status, new PhpEnum('Status', 'Active'));
  });

  it('references: the same object where PHP has one array or object; equal copies of scalars', () => {
    for (const handler of HANDLERS) {
      const s = read(handler, 'references') as Record<string, Record<string, unknown>>;
      assert.equal(s.a, 1);
      assert.equal(s.b, 1);
      assert.equal(s.arrRef, s.arr);
      assert.equal(s.sameObj, s.obj);
      assert.equal(s.objRef, s.obj);
      assert.equal(s.self?.self, s.self);
      assert.equal(s.nested?.y, 0.5);
      assert.equal(s.enumRef, s.enum);
    }
  });

  it('php_serialize: integer session keys, and a list session read as an object', () => {
    assert.deepEqual(Object.keys(read('php_serialize', 'intKeys')), ['0', '5', 'name']);
    const list = read('php_serialize', 'list');
    assert.ok(!Array.isArray(list));
    assert.deepEqual(list, { 0: 'a', 1: 'b' });
  });
});

describe('changed sessions', () => {
  const changed = [
    { name: 'user', change: 'rename' },
    { name: 'user', change: 'add' },
    { name: 'user', change: 'remove' },
    { name: 'objects', change: 'objectProperty' },
    { name: 'arrays', change: 'appendKey' },
    { name: 'floats', change: 'add' },
    { name: 'references', change: 'add' },
  ];

  it('PHP reads each change as PHP code making it would have it, everything else as it was', async () => {
    const requests = HANDLERS.flatMap((handler) =>
      changed.map(({ name, change }) => {
        const session = read(handler, name);
        changes[change]?.(session);
        const text = serializers[handler].stringify(session);
        return { handler, text, set: 'php' as const, name, change };
      }),
    );
    const results = await decodeInPhp(requests);
    results.forEach((result, i) => {
      const { handler, name, change } = requests[i] ?? {};
      assert.ok(
        result.read && result.same,
        `${handler} ${name} ${change}: ${result.error ?? `PHP read\n${result.decoded}\nexpected\n${result.expected}`}`,
      );
    });
  });

  it('a key PHP ordered is written in its place; a new key after the others, as PHP appends it', () => {
    const s = read('php_serialize', 'arrays');
    (s.outOfOrder as Record<string, unknown>)[7] = 'appended';
    (s.outOfOrder as Record<string, unknown>)[2] = 'B';
    const text = serializers.php_serialize.stringify(s);
    assert.ok(text.includes('a:4:{i:5;s:1:"a";i:2;s:1:"B";i:9;s:1:"c";i:7;s:8:"appended";}'), text);
  });

  it('a number that changes loses its old form: 1.0 set to 2 is written i:2', () => {
    const s = read('php', 'user');
    assert.match(serializers.php.stringify(s), /ratio\|d:1;/);
    s.ratio = 2;
    assert.match(serializers.php.stringify(s), /ratio\|i:2;/);
    s.ratio = 1;
    assert.match(serializers.php.stringify(s), /ratio\|d:1;/, 'the same value again: as read');
  });

  it('a copy ({ ...session }) is a new value: written the way Node writes new values', () => {
    const s = read('php', 'user');
    assert.match(serializers.php.stringify({ ...s }), /ratio\|i:1;/);
  });
});
