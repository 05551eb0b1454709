import { isPhpClassName, type PhpMeta, type Place, setMeta } from './php-metadata.js';
import { isIntegerKey, PHP_INT_MAX, PHP_INT_MIN, phpNumberText } from './php-scalars.js';
import { PhpEnum, PhpSerializable } from './php-values.js';

/** Deepest nesting of arrays and objects read or written. */
export const MAX_DEPTH = 512;

/** An array or object being read: its keys in PHP's order and what it must remember. */
export interface Frame {
  readonly holder: { target: object };
  /** Keys are strings unless PHP wrote them as integers: an object (`O:`), or the variables of `php`. */
  readonly stringKeys: boolean;
  readonly keys: string[];
  readonly meta: PhpMeta;
  /** Still being read. */
  open: boolean;
  /** A reference to it was read while it was being read: it stays the object the reference holds. */
  referenced: boolean;
}

/** What PHP numbers each value it reads by, for `r:` and `R:` to refer to. */
type Slot =
  | { readonly kind: 'pending' }
  | {
      readonly kind: 'scalar';
      readonly value: unknown;
      readonly frame: Frame;
      readonly key: string;
    }
  | { readonly kind: 'container'; readonly frame: Frame }
  | { readonly kind: 'object'; readonly value: PhpEnum | PhpSerializable };

const c = (char: string) => char.charCodeAt(0);
const [QUOTE, COLON, SEMICOLON, OPEN, CLOSE, BAR] = ['"', ':', ';', '{', '}', '|'].map(c) as [
  number,
  number,
  number,
  number,
  number,
  number,
];
const PENDING: Slot = { kind: 'pending' };
const FLOAT = /^(?:NAN|-?INF|[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)$/;
const CASE_NAME = /^[A-Za-z0-9_\u0080-\u{10FFFF}]+$/u;
/** The fewest bytes one element of an array takes: `i:0;N;`. */
const MIN_ELEMENT_BYTES = 6;
const MAX_LENGTH_DIGITS = 10;

function describe(byte: number | undefined): string {
  if (byte === undefined) return 'the end of the data';
  if (byte >= 0x20 && byte < 0x7f) return JSON.stringify(String.fromCharCode(byte));
  return `byte 0x${byte.toString(16).padStart(2, '0')}`;
}

const isContinuation = (byte: number | undefined) => byte !== undefined && (byte & 0xc0) === 0x80;

/**
 * Reads PHP's serialize() format from the UTF-8 bytes of stored text, as PHP 8's
 * unserialize() does, refusing what it refuses. Lengths count bytes; a count or length
 * larger than what is left is an error at once (nothing is allocated by a count read
 * from the data); nesting is bounded by {@link MAX_DEPTH}. Errors name the byte offset.
 */
export class PhpReader {
  readonly #bytes: Buffer;
  readonly #format: string;
  #pos = 0;
  readonly #slots: Slot[] = [];
  #depth = 0;

  constructor(text: string, format: string) {
    this.#format = format;
    if (typeof text !== 'string') this.#fail(`expected text, got ${typeof text}`);
    if (/\p{Cs}/u.test(text)) this.#fail('the text is not valid Unicode (a lone surrogate)');
    this.#bytes = Buffer.from(text, 'utf8');
  }

  get atEnd(): boolean {
    return this.#pos >= this.#bytes.length;
  }

  /** The session object of the `php` and `php_binary` formats: string keys, filled by {@link entry}. */
  session(): Frame {
    return newFrame(true, {});
  }

  /** Reads one value into the session object under `key`. */
  entry(session: Frame, key: string): void {
    if (!Object.hasOwn(session.holder.target, key)) session.keys.push(key);
    define(session.holder.target, key, this.value(session, key));
  }

  /** The session object with its metadata, once every entry is read. */
  finish(session: Frame): Record<string, unknown> {
    return finish(session, false) as Record<string, unknown>;
  }

  /** `php` format: a session name, up to the `|` that ends it. */
  nameBeforeBar(): string {
    const bar = this.#bytes.indexOf(BAR, this.#pos);
    if (bar < 0) this.#fail('expected a session name ending in "|", found none');
    const name = this.#bytes.toString('utf8', this.#pos, bar);
    this.#pos = bar + 1;
    return name;
  }

  /** `php_binary` format: a byte with the length of the name (below 128), then the name. */
  lengthPrefixedName(): string {
    const length = this.#bytes[this.#pos];
    if (length === undefined || length >= 0x80) {
      this.#fail(
        `expected the length of a session name (a byte below 128), found ${describe(length)}`,
      );
    }
    const start = this.#pos + 1;
    const end = start + length;
    if (end >= this.#bytes.length) {
      this.#fail(`the session name of ${length} bytes and its value go past the end of the data`);
    }
    if (isContinuation(this.#bytes[end])) {
      this.#fail(`the session name of ${length} bytes ends inside a multibyte character`);
    }
    this.#pos = end;
    return this.#bytes.toString('utf8', start, end);
  }

  /** `php_serialize` format: the one array holding the session, as an object. */
  sessionArray(): Record<string, unknown> {
    if (this.#bytes[this.#pos] !== c('a')) {
      this.#fail(`expected the session array "a:", found ${describe(this.#bytes[this.#pos])}`);
    }
    const value = this.value(undefined, '', true);
    if (!this.atEnd) this.#fail('expected the end of the data after the session array');
    return value as Record<string, unknown>;
  }

  /** One value of the format; `frame` and `key` are where it goes. */
  value(frame: Frame | undefined, key: string, asObject = false): unknown {
    const start = this.#pos;
    const type = this.#bytes[start];
    if (type === c('R')) return this.#reference(frame, key);
    // PHP numbers every value but R: before reading what it holds.
    const slot = this.#slots.length;
    this.#slots.push(PENDING);
    this.#pos += 1;
    switch (type) {
      case c('N'):
        this.#expect(SEMICOLON);
        return this.#scalar(slot, frame, key, null);
      case c('b'): {
        this.#expect(COLON);
        const bit = this.#bytes[this.#pos];
        if (bit !== c('0') && bit !== c('1')) {
          this.#fail(`expected 0 or 1 after "b:", found ${describe(bit)}`);
        }
        this.#pos += 1;
        this.#expect(SEMICOLON);
        return this.#scalar(slot, frame, key, bit === c('1'));
      }
      case c('i'): {
        this.#expect(COLON);
        const value = this.#integer();
        this.#expect(SEMICOLON);
        return this.#scalar(slot, frame, key, value, start);
      }
      case c('d'): {
        this.#expect(COLON);
        const value = this.#float();
        return this.#scalar(slot, frame, key, value, start);
      }
      case c('s'): {
        this.#expect(COLON);
        const value = this.#string();
        this.#expect(SEMICOLON);
        return this.#scalar(slot, frame, key, value);
      }
      case c('a'):
        this.#expect(COLON);
        return this.#container(slot, undefined, asObject);
      case c('O'):
        return this.#container(slot, this.#className(), false);
      case c('C'):
        return this.#serializable(slot);
      case c('E'):
        return this.#enum(slot);
      case c('r'):
        return this.#objectReference(slot);
      case c('S'):
        return this.#fail(
          'escaped strings (S:), which PHP 8 never writes, are not supported',
          start,
        );
      case undefined:
        return this.#fail('expected a value, found the end of the data');
      default:
        return this.#fail(`expected a value, found ${describe(type)}`, start);
    }
  }

  #scalar(slot: number, frame: Frame | undefined, key: string, value: unknown, from?: number) {
    // The session array of php_serialize is the only value without a frame, and no scalar.
    if (frame) {
      this.#slots[slot] = { kind: 'scalar', value, frame, key };
      if (from !== undefined) {
        // A number PHP wrote in another form than Node would (d:1;) keeps its text.
        const text = this.#bytes.toString('latin1', from, this.#pos);
        if (text !== phpNumberText(value as number | bigint)) {
          frame.meta.texts ??= new Map();
          frame.meta.texts.set(key, { value, text });
        }
      }
    }
    return value;
  }

  #container(slot: number, className: string | undefined, asObject: boolean): object {
    const what = className === undefined ? 'array' : 'object';
    const count = this.#length(`${what} size`);
    this.#expect(OPEN);
    const remaining = this.#bytes.length - this.#pos;
    if (count * MIN_ELEMENT_BYTES + 1 > remaining) {
      this.#fail(
        `the ${what} claims ${count} element${count === 1 ? '' : 's'}, more than the ${remaining} bytes left can hold`,
      );
    }
    if (++this.#depth > MAX_DEPTH) {
      this.#fail(`arrays and objects nested deeper than ${MAX_DEPTH} levels`);
    }
    const frame = newFrame(className !== undefined, className === undefined ? {} : { className });
    this.#slots[slot] = { kind: 'container', frame };
    const target = frame.holder.target as Record<string, unknown>;
    for (let i = 0; i < count; i++) {
      const key = this.#key(frame);
      if (!Object.hasOwn(target, key)) frame.keys.push(key);
      define(target, key, this.value(frame, key));
    }
    if (this.#bytes[this.#pos] !== CLOSE) {
      this.#fail(
        `expected "}" after the ${count} elements of the ${what}, found ${describe(this.#bytes[this.#pos])}`,
      );
    }
    this.#pos += 1;
    this.#depth -= 1;
    frame.open = false;
    return finish(frame, className === undefined && !asObject);
  }

  /** An array key (`i:` or `s:`) or property name; an integer reads as its decimal text. */
  #key(frame: Frame): string {
    const start = this.#pos;
    const type = this.#bytes[start];
    let key: string;
    let integer: boolean;
    if (type === c('i')) {
      this.#pos += 1;
      this.#expect(COLON);
      key = String(this.#integer());
      this.#expect(SEMICOLON);
      integer = true;
    } else if (type === c('s')) {
      this.#pos += 1;
      this.#expect(COLON);
      key = this.#string();
      this.#expect(SEMICOLON);
      integer = false;
    } else {
      return this.#fail(`expected a key (i: or s:), found ${describe(type)}`);
    }
    if (integer !== (!frame.stringKeys && isIntegerKey(key))) {
      frame.meta.otherKind ??= new Set();
      frame.meta.otherKind.add(key);
    }
    return key;
  }

  /** `R:n;`: the value numbered n itself (a PHP reference); it takes no number of its own. */
  #reference(frame: Frame | undefined, key: string): unknown {
    const at = this.#pos;
    this.#pos += 1;
    const target = this.#target(at, 'R');
    if (!frame) return this.#fail('a reference cannot be the session itself', at);
    frame.meta.refs ??= new Map();
    switch (target.kind) {
      case 'scalar': {
        const place: Place = { holder: target.frame.holder, key: target.key };
        frame.meta.refs.set(key, place);
        target.frame.meta.targets ??= new Set();
        target.frame.meta.targets.add(target.key);
        return target.value;
      }
      case 'container':
        frame.meta.refs.set(key, null);
        if (target.frame.open) target.frame.referenced = true;
        return target.frame.holder.target;
      case 'object':
        frame.meta.refs.set(key, null);
        return target.value;
    }
  }

  /** `r:n;`: the object numbered n again (PHP allows only objects here). */
  #objectReference(slot: number): unknown {
    const at = this.#pos - 1;
    const target = this.#target(at, 'r');
    if (target.kind === 'object') {
      this.#slots[slot] = target;
      return target.value;
    }
    if (target.kind === 'container' && target.frame.meta.className !== undefined) {
      this.#slots[slot] = target;
      return target.frame.holder.target;
    }
    return this.#fail('r: refers to a value that is not an object', at);
  }

  #target(at: number, type: string): Exclude<Slot, { kind: 'pending' }> {
    this.#expect(COLON);
    const n = this.#digits('reference number');
    this.#expect(SEMICOLON);
    const before = type === 'r' ? this.#slots.length - 1 : this.#slots.length;
    const target = n >= 1 && n <= before ? this.#slots[n - 1] : undefined;
    if (!target || target.kind === 'pending') {
      return this.#fail(`${type}:${n} refers to value ${n}, but ${before} values came before`, at);
    }
    return target;
  }

  #serializable(slot: number): PhpSerializable {
    const className = this.#className();
    const length = this.#length('Serializable data length');
    this.#expect(OPEN);
    const data = this.#bytesUpTo(length, CLOSE, 'the Serializable data');
    const value = new PhpSerializable(className, data);
    this.#slots[slot] = { kind: 'object', value };
    return value;
  }

  #enum(slot: number): PhpEnum {
    const at = this.#pos - 1;
    this.#expect(COLON);
    const name = this.#string();
    this.#expect(SEMICOLON);
    const colon = name.indexOf(':');
    const className = name.slice(0, colon);
    const caseName = name.slice(colon + 1);
    if (colon < 0 || !isPhpClassName(className) || !CASE_NAME.test(caseName)) {
      this.#fail('expected an enum case "Class:Case" after "E:"', at);
    }
    const value = new PhpEnum(className, caseName);
    this.#slots[slot] = { kind: 'object', value };
    return value;
  }

  /** `:len:"Name":` of `O:` and `C:`, checked as PHP checks class names. */
  #className(): string {
    const at = this.#pos;
    this.#expect(COLON);
    const length = this.#length('class name length');
    this.#expect(QUOTE);
    const name = this.#bytesUpTo(length, QUOTE, 'the class name');
    this.#expect(COLON);
    if (!isPhpClassName(name)) this.#fail('not a valid PHP class name', at);
    return name;
  }

  /** `len:"bytes"` of `s:` (from after `s:`, up to the closing quote). */
  #string(): string {
    const length = this.#length('string length');
    this.#expect(QUOTE);
    return this.#bytesUpTo(length, QUOTE, `the string s:${length}`);
  }

  /** `length` bytes then the delimiter `end`; the bytes as text. */
  #bytesUpTo(length: number, end: number, what: string): string {
    const start = this.#pos;
    const stop = start + length;
    if (stop >= this.#bytes.length) {
      this.#fail(
        `${what} goes past the end of the data (${this.#bytes.length - start} bytes left)`,
      );
    }
    const next = this.#bytes[stop];
    if (next !== end) {
      this.#fail(
        isContinuation(next)
          ? `${what} ends inside a multibyte character (PHP counts lengths in UTF-8 bytes)`
          : `expected ${describe(end)} after ${what}, found ${describe(next)}`,
        stop,
      );
    }
    this.#pos = stop + 1;
    return this.#bytes.toString('utf8', start, stop);
  }

  /** A length or count and the ':' after it. */
  #length(what: string): number {
    const value = this.#digits(what);
    this.#expect(COLON);
    return value;
  }

  /** Unsigned decimal digits (a length, count or reference number), at most the size of the data. */
  #digits(what: string): number {
    const start = this.#pos;
    while (isDigit(this.#bytes[this.#pos])) this.#pos += 1;
    const digits = this.#pos - start;
    if (digits === 0) this.#fail(`expected the ${what}, found ${describe(this.#bytes[start])}`);
    const value =
      digits > MAX_LENGTH_DIGITS
        ? Number.POSITIVE_INFINITY
        : Number(this.#bytes.toString('latin1', start, this.#pos));
    if (value > this.#bytes.length) {
      this.#fail(
        `the ${what} ${digits > MAX_LENGTH_DIGITS ? `of ${digits} digits` : value} is larger than the whole data (${this.#bytes.length} bytes)`,
        start,
      );
    }
    return value;
  }

  /** `[+-]digits` within PHP's 64-bit range: a number when it is a safe integer, else a bigint. */
  #integer(): number | bigint {
    const start = this.#pos;
    const sign = this.#bytes[start];
    if (sign === c('-') || sign === c('+')) this.#pos += 1;
    const digitsStart = this.#pos;
    while (isDigit(this.#bytes[this.#pos])) this.#pos += 1;
    if (this.#pos === digitsStart) {
      this.#fail(`expected an integer, found ${describe(this.#bytes[this.#pos])}`);
    }
    const text = this.#bytes.toString('latin1', start, this.#pos);
    if (this.#pos - digitsStart <= 15) return Number(text) + 0; // + 0: i:-0 is 0
    const value = BigInt(text);
    if (value > PHP_INT_MAX || value < PHP_INT_MIN) {
      this.#fail('integer out of the range of PHP ints (64 bits)', start);
    }
    return Number.isSafeInteger(Number(value)) ? Number(value) : value;
  }

  /** A float up to its ';', in the forms PHP's unserialize() reads (`1.5`, `1.0E+25`, `INF`). */
  #float(): number {
    const start = this.#pos;
    const end = this.#bytes.indexOf(SEMICOLON, start);
    const text = end < 0 ? '' : this.#bytes.toString('latin1', start, end);
    if (!FLOAT.test(text)) this.#fail('expected a float (digits, INF or NAN) and ";"');
    this.#pos = end + 1;
    if (text === 'NAN') return Number.NaN;
    if (text === 'INF') return Number.POSITIVE_INFINITY;
    if (text === '-INF') return Number.NEGATIVE_INFINITY;
    return Number(text);
  }

  #expect(byte: number): void {
    const found = this.#bytes[this.#pos];
    if (found !== byte) this.#fail(`expected ${describe(byte)}, found ${describe(found)}`);
    this.#pos += 1;
  }

  #fail(message: string, at = this.#pos): never {
    throw new Error(`${this.#format}: ${message} at byte ${at}`);
  }
}

function isDigit(byte: number | undefined): boolean {
  return byte !== undefined && byte >= 0x30 && byte <= 0x39;
}

function newFrame(stringKeys: boolean, meta: PhpMeta): Frame {
  return { holder: { target: {} }, stringKeys, keys: [], meta, open: true, referenced: false };
}

/** Sets a key as its own property, even `__proto__` (which an assignment would take as the prototype). */
function define(target: object, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  } else {
    (target as Record<string, unknown>)[key] = value;
  }
}

/**
 * The value a complete frame reads as: a PHP list (keys 0, 1, 2... in order) becomes a
 * JavaScript array when `listable`; the order of keys is kept when JavaScript's differs.
 */
function finish(frame: Frame, listable: boolean): object {
  const target = frame.holder.target as Record<string, unknown>;
  const { keys, meta } = frame;
  let result: object = target;
  if (listable && !frame.referenced && keys.every((key, i) => key === String(i))) {
    result = keys.map((key) => target[key]);
    frame.holder.target = result;
  } else {
    const order = Object.keys(target);
    if (order.some((key, i) => key !== keys[i])) meta.order = keys;
  }
  if (Object.keys(meta).length > 0) setMeta(result, meta);
  return result;
}
