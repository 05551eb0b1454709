/**
 * The JavaScript side of the sessions the PHP tests exchange (test/php/php/cases.php has
 * the PHP side under the same names), and real PHP 8 encoding and decoding them with
 * session_encode()/session_decode() and serialize()/unserialize().
 */
import { fileURLToPath } from 'node:url';
import {
  PhpEnum,
  PhpSerializable,
  type PhpSession,
  phpBinarySerializer,
  phpSerializer,
  phpSerializeSerializer,
  type Serializer,
  setPhpClass,
} from '../../src/index.js';
import { runPhp } from '../helpers/php.js';

export type Handler = 'php' | 'php_serialize' | 'php_binary';
export const HANDLERS: readonly Handler[] = ['php', 'php_serialize', 'php_binary'];

export const serializers: Readonly<Record<Handler, Serializer<PhpSession>>> = {
  php: phpSerializer,
  php_serialize: phpSerializeSerializer,
  php_binary: phpBinarySerializer,
};

const script = fileURLToPath(new URL('./php/sessions.php', import.meta.url));

/** What PHP wrote: by handler (and `serialize` for serialize() of the same arrays), by case. */
export type Encoded = Record<Handler | 'serialize', Record<string, string>>;

/** Every case of php_cases() as PHP 8 writes it with each handler, and with serialize(). */
export async function encodeInPhp(): Promise<Encoded> {
  const { stdout } = await runPhp({ file: script, args: ['encode'] });
  return JSON.parse(stdout) as Encoded;
}

export interface DecodeRequest {
  readonly handler: Handler | 'serialize';
  readonly text: string;
  /** Which PHP cases the text must read as: php_cases() or node_cases(). */
  readonly set: 'php' | 'node';
  readonly name: string;
  /** A change of apply_change() made to the expected case. */
  readonly change?: string;
}

export interface Decoded {
  /** session_decode() (or unserialize()) accepted the text. */
  readonly read: boolean;
  /** It read as the expected value: same serialize() (types, classes and references). */
  readonly same: boolean;
  readonly decoded?: string;
  readonly expected?: string;
  /** Warnings PHP gave while reading it. */
  readonly warnings?: readonly string[];
  readonly error?: string;
}

/** Real PHP reads each text with its handler and compares it with the named case. */
export async function decodeInPhp(requests: readonly DecodeRequest[]): Promise<Decoded[]> {
  const { stdout } = await runPhp(
    { file: script, args: ['decode'] },
    { input: JSON.stringify(requests) },
  );
  return JSON.parse(stdout) as Decoded[];
}

/** What PHP writes again after reading each text with its handler (null: PHP cannot read it). */
export async function reencodeInPhp(
  requests: readonly { handler: Handler | 'serialize'; text: string }[],
): Promise<(string | null)[]> {
  const { stdout } = await runPhp(
    { file: script, args: ['reencode'] },
    { input: JSON.stringify(requests) },
  );
  return JSON.parse(stdout) as (string | null)[];
}

/** serialize() of each double in PHP. */
export async function serializeFloatsInPhp(values: readonly number[]): Promise<string[]> {
  const hex = values.map((value) => {
    const bytes = Buffer.alloc(8);
    bytes.writeDoubleBE(value);
    return bytes.toString('hex');
  });
  const { stdout } = await runPhp(
    { file: script, args: ['floats'] },
    { input: JSON.stringify(hex) },
  );
  return JSON.parse(stdout) as string[];
}

/** The sessions Node writes; node_cases() in cases.php is what PHP must read them as. */
export function nodeCases(): Record<string, PhpSession> {
  const shared = { x: 1 };
  const object = setPhpClass({ v: 1 }, 'stdClass');
  const cycle: Record<string, unknown> = setPhpClass({}, 'stdClass');
  cycle.self = cycle;
  const strings = {
    plain: 'hello',
    empty: '',
    multibyte: 'é ü 漢字 🔑',
    syntax: 'a|b;c:"d"{}',
    controls: 'line\nnext\ttab\r',
    nul: 'a\0b',
    clé: 'multibyte session name',
  };
  return {
    strings,
    ints: {
      zero: 0,
      negative: -1,
      answer: 42,
      max: 9223372036854775807n,
      min: -9223372036854775808n,
      safe: Number.MAX_SAFE_INTEGER,
      bigint: 12n,
    },
    floats: {
      tenth: 0.1,
      big: 1e100,
      negativeZero: -0,
      inf: Number.POSITIVE_INFINITY,
      negativeInf: Number.NEGATIVE_INFINITY,
      nan: Number.NaN,
      tiny: 5e-324,
      third: 1 / 3,
      half: 1.5,
      beyondSafe: 2 ** 60,
    },
    scalars: { yes: true, no: false, nothing: null },
    arrays: {
      list: [1, 2, 3],
      empty: [],
      map: { a: 1, b: { c: {} } },
      intKeys: { 5: 'a', 2: 'b' },
      numericStrings: { 1: 'int one', '01': 'string', '-3': 'negative', '-0': 'minus zero' },
      // biome-ignore lint/suspicious/noSparseArray: a JS array with a hole
      sparse: ['a', , 'c'],
      undefinedInList: [1, undefined, 3],
      skipped: { kept: 1, gone: undefined, fn: () => 1 },
      date: new Date('2024-02-29T12:00:00Z'),
      proto: JSON.parse('{"__proto__":{"admin":true}}') as unknown,
    },
    objects: {
      std: setPhpClass({ name: 'ann', 1: 'numeric property' }, 'stdClass'),
      user: setPhpClass({ name: 'bob', '\0*\0role': 'dev', '\0User\0secret': 2.5 }, 'User'),
      point: setPhpClass({ x: 1, next: setPhpClass({ x: 2, next: null }, 'Point') }, 'Point'),
      legacy: new PhpSerializable('Legacy', 'é;}"'),
    },
    enums: {
      suit: new PhpEnum('Suit', 'Hearts'),
      again: new PhpEnum('Suit', 'Hearts'),
      status: new PhpEnum('Status', 'Active'),
    },
    references: { a: shared, b: shared, o1: object, o2: object, cycle },
    empty: {},
  };
}

/** apply_change() of cases.php, as JavaScript code makes it. */
export const changes: Readonly<Record<string, (session: PhpSession) => void>> = {
  rename: (s) => {
    (s.user as Record<string, unknown>).name = 'bob';
  },
  add: (s) => {
    s.added = { new: true };
  },
  remove: (s) => {
    delete s.counter;
  },
  objectProperty: (s) => {
    (s.std as Record<string, unknown>).name = 'zoe';
  },
  appendKey: (s) => {
    (s.outOfOrder as Record<string, unknown>)[7] = 'appended';
  },
};
