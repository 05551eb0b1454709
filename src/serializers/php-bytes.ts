import { PHP_INT_MAX, PHP_INT_MIN } from './php-scalars.js';

/** The code of an ASCII character. */
export const c = (char: string): number => char.charCodeAt(0);
export const [QUOTE, COLON, SEMICOLON, OPEN, CLOSE, BAR] = ['"', ':', ';', '{', '}', '|'].map(
  c,
) as [number, number, number, number, number, number];

const FLOAT = /^(?:NAN|-?INF|[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)$/;
const MAX_LENGTH_DIGITS = 10;

/** A byte as an error message names it: `"x"`, `byte 0xc3`, or the end of the data. */
export function describe(byte: number | undefined): string {
  if (byte === undefined) return 'the end of the data';
  if (byte >= 0x20 && byte < 0x7f) return JSON.stringify(String.fromCharCode(byte));
  return `byte 0x${byte.toString(16).padStart(2, '0')}`;
}

/** A byte inside a multibyte UTF-8 character (not its first). */
export const isContinuation = (byte: number | undefined): boolean =>
  byte !== undefined && (byte & 0xc0) === 0x80;

const isDigit = (byte: number | undefined): boolean =>
  byte !== undefined && byte >= 0x30 && byte <= 0x39;

/**
 * The UTF-8 bytes of stored text and a position in them, with the tokens of PHP's
 * serialize() format: lengths, integers, floats, byte-counted strings. Every error is an
 * Error naming the format, what is wrong and the byte offset.
 */
export class PhpBytes {
  readonly #bytes: Buffer;
  readonly #format: string;
  #pos = 0;

  constructor(text: string, format: string) {
    this.#format = format;
    if (typeof text !== 'string') this.fail(`expected text, got ${typeof text}`);
    if (/\p{Cs}/u.test(text)) this.fail('the text is not valid Unicode (a lone surrogate)');
    this.#bytes = Buffer.from(text, 'utf8');
  }

  get pos(): number {
    return this.#pos;
  }

  get length(): number {
    return this.#bytes.length;
  }

  get atEnd(): boolean {
    return this.#pos >= this.#bytes.length;
  }

  /** The byte at the position (plus `ahead`), `undefined` past the end. */
  peek(ahead = 0): number | undefined {
    return this.#bytes[this.#pos + ahead];
  }

  skip(count = 1): void {
    this.#pos += count;
  }

  seek(pos: number): void {
    this.#pos = pos;
  }

  indexOf(byte: number): number {
    return this.#bytes.indexOf(byte, this.#pos);
  }

  /** The bytes from `start` to `end` as text; callers cut at ASCII delimiters, so it is whole UTF-8. */
  text(start: number, end: number): string {
    return this.#bytes.toString('utf8', start, end);
  }

  /** The bytes from `start` to `end`, all ASCII (numbers, their forms). */
  ascii(start: number, end: number): string {
    return this.#bytes.toString('latin1', start, end);
  }

  expect(byte: number): void {
    const found = this.#bytes[this.#pos];
    if (found !== byte) this.fail(`expected ${describe(byte)}, found ${describe(found)}`);
    this.#pos += 1;
  }

  /** A length or count and the ':' after it. */
  lengthThenColon(what: string): number {
    const value = this.digits(what);
    this.expect(COLON);
    return value;
  }

  /** Unsigned decimal digits (a length, count or reference number), at most the size of the data. */
  digits(what: string): number {
    const start = this.#pos;
    while (isDigit(this.#bytes[this.#pos])) this.#pos += 1;
    const digits = this.#pos - start;
    if (digits === 0) this.fail(`expected the ${what}, found ${describe(this.#bytes[start])}`);
    const value =
      digits > MAX_LENGTH_DIGITS
        ? Number.POSITIVE_INFINITY
        : Number(this.#bytes.toString('latin1', start, this.#pos));
    if (value > this.#bytes.length) {
      this.fail(
        `the ${what} ${digits > MAX_LENGTH_DIGITS ? `of ${digits} digits` : value} is larger than the whole data (${this.#bytes.length} bytes)`,
        start,
      );
    }
    return value;
  }

  /** `[+-]digits` within PHP's 64-bit range: a number when it is a safe integer, else a bigint. */
  integer(): number | bigint {
    const start = this.#pos;
    const sign = this.#bytes[start];
    if (sign === c('-') || sign === c('+')) this.#pos += 1;
    const digitsStart = this.#pos;
    while (isDigit(this.#bytes[this.#pos])) this.#pos += 1;
    if (this.#pos === digitsStart) {
      this.fail(`expected an integer, found ${describe(this.#bytes[this.#pos])}`);
    }
    if (this.#pos - digitsStart <= 15) {
      let value = 0;
      for (let i = digitsStart; i < this.#pos; i++) {
        value = value * 10 + ((this.#bytes[i] ?? 0x30) - 0x30);
      }
      return sign === c('-') && value !== 0 ? -value : value;
    }
    const value = BigInt(this.#bytes.toString('latin1', start, this.#pos));
    if (value > PHP_INT_MAX || value < PHP_INT_MIN) {
      this.fail('integer out of the range of PHP ints (64 bits)', start);
    }
    return Number.isSafeInteger(Number(value)) ? Number(value) : value;
  }

  /** Whether the integer from `start` to `end` is as PHP writes it: no `+`, no leading zero, no `-0`. */
  canonicalInteger(start: number, end: number): boolean {
    const first = this.#bytes[start];
    if (first === c('+')) return false;
    const digits = first === c('-') ? start + 1 : start;
    return this.#bytes[digits] !== c('0') || (end - digits === 1 && digits === start);
  }

  /** The text of a float and the ';' after it, in a form PHP's unserialize() reads (`1.5`, `1.0E+25`, `INF`). */
  floatText(): string {
    const start = this.#pos;
    const end = this.#bytes.indexOf(SEMICOLON, start);
    const text = end < 0 ? '' : this.#bytes.toString('latin1', start, end);
    if (!FLOAT.test(text)) this.fail('expected a float (digits, INF or NAN) and ";"');
    this.#pos = end + 1;
    return text;
  }

  /** `len:"bytes"` of `s:` (from after `s:`, up to the closing quote). */
  string(): string {
    const length = this.lengthThenColon('string length');
    this.expect(QUOTE);
    return this.bytesUpTo(length, QUOTE, `the string s:${length}`);
  }

  /** `length` bytes, then the delimiter `end`: the bytes as text. */
  bytesUpTo(length: number, end: number, what: string): string {
    const start = this.#pos;
    const stop = start + length;
    if (stop >= this.#bytes.length) {
      this.fail(`${what} goes past the end of the data (${this.#bytes.length - start} bytes left)`);
    }
    const next = this.#bytes[stop];
    if (next !== end) {
      this.fail(
        isContinuation(next)
          ? `${what} ends inside a multibyte character (PHP counts lengths in UTF-8 bytes)`
          : `expected ${describe(end)} after ${what}, found ${describe(next)}`,
        stop,
      );
    }
    this.#pos = stop + 1;
    return this.#bytes.toString('utf8', start, stop);
  }

  fail(message: string, at = this.#pos): never {
    throw new Error(`${this.#format}: ${message} at byte ${at}`);
  }
}
