import {
  BAR,
  CLOSE,
  COLON,
  c,
  describe,
  isContinuation,
  OPEN,
  PhpBytes,
  SEMICOLON,
} from './php-bytes.js';
import { readClassName, readEnumCase, readSerializable } from './php-class-values.js';
import { define, type Frame, finish, newFrame } from './php-frame.js';
import type { Place } from './php-metadata.js';
import { floatOf, isFixedFloat, isIntegerKey, phpNumberText } from './php-scalars.js';
import { type NumberedValue, PhpValueNumbers } from './php-value-numbers.js';
import type { PhpEnum, PhpSerializable } from './php-values.js';

/** Deepest nesting of arrays and objects read or written. */
export const MAX_DEPTH = 512;

/** The fewest bytes one element of an array takes: `i:0;N;`. */
const MIN_ELEMENT_BYTES = 6;

/**
 * Reads PHP's serialize() format from the UTF-8 bytes of stored text, as PHP 8's
 * unserialize() does, refusing what it refuses. Lengths count bytes; a count or length
 * larger than what is left is an error at once (nothing is allocated by a count read
 * from the data); nesting is bounded by {@link MAX_DEPTH}. Errors name the byte offset.
 */
export class PhpReader {
  readonly #in: PhpBytes;
  readonly #numbers = new PhpValueNumbers();
  #depth = 0;

  constructor(text: string, format: string) {
    this.#in = new PhpBytes(text, format);
  }

  get atEnd(): boolean {
    return this.#in.atEnd;
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
    const bar = this.#in.indexOf(BAR);
    if (bar < 0) this.#in.fail('expected a session name ending in "|", found none');
    const name = this.#in.text(this.#in.pos, bar);
    this.#in.seek(bar + 1);
    return name;
  }

  /** `php_binary` format: a byte with the length of the name (below 128), then the name. */
  lengthPrefixedName(): string {
    const length = this.#in.peek();
    if (length === undefined || length >= 0x80) {
      this.#in.fail(
        `expected the length of a session name (a byte below 128), found ${describe(length)}`,
      );
    }
    const start = this.#in.pos + 1;
    const end = start + length;
    if (end >= this.#in.length) {
      this.#in.fail(
        `the session name of ${length} bytes and its value go past the end of the data`,
      );
    }
    if (isContinuation(this.#in.peek(end - this.#in.pos))) {
      this.#in.fail(`the session name of ${length} bytes ends inside a multibyte character`);
    }
    this.#in.seek(end);
    return this.#in.text(start, end);
  }

  /** `php_serialize` format: the one array holding the session, as an object. */
  sessionArray(): Record<string, unknown> {
    if (this.#in.peek() !== c('a')) {
      this.#in.fail(`expected the session array "a:", found ${describe(this.#in.peek())}`);
    }
    const value = this.value(undefined, '', true);
    if (!this.atEnd) this.#in.fail('expected the end of the data after the session array');
    return value as Record<string, unknown>;
  }

  /** One value of the format; `frame` and `key` are where it goes. */
  value(frame: Frame | undefined, key: string, asObject = false): unknown {
    const start = this.#in.pos;
    const type = this.#in.peek();
    if (type === undefined) return this.#in.fail('expected a value, found the end of the data');
    if (type === c('R')) return this.#reference(frame, key);
    // PHP numbers every value but R: before reading what it holds.
    const slot = this.#numbers.next(frame, key);
    this.#in.skip();
    switch (type) {
      case c('N'):
        this.#in.expect(SEMICOLON);
        return this.#scalar(slot, frame, key, null);
      case c('b'): {
        this.#in.expect(COLON);
        const bit = this.#in.peek();
        if (bit !== c('0') && bit !== c('1')) {
          this.#in.fail(`expected 0 or 1 after "b:", found ${describe(bit)}`);
        }
        this.#in.skip();
        this.#in.expect(SEMICOLON);
        return this.#scalar(slot, frame, key, bit === c('1'));
      }
      case c('i'): {
        this.#in.expect(COLON);
        const value = this.#in.integer();
        this.#in.expect(SEMICOLON);
        const canonical = this.#in.canonicalInteger(start + 2, this.#in.pos - 1);
        return this.#scalar(slot, frame, key, value, canonical ? undefined : start);
      }
      case c('d'): {
        this.#in.expect(COLON);
        const text = this.#in.floatText();
        const value = floatOf(text);
        const canonical = isFixedFloat(value, text) || `d:${text};` === phpNumberText(value);
        return this.#scalar(slot, frame, key, value, canonical ? undefined : start);
      }
      case c('s'): {
        this.#in.expect(COLON);
        const value = this.#in.string();
        this.#in.expect(SEMICOLON);
        return this.#scalar(slot, frame, key, value);
      }
      case c('a'):
        this.#in.expect(COLON);
        return this.#container(slot, undefined, asObject);
      case c('O'):
        return this.#container(slot, readClassName(this.#in), false);
      case c('C'):
        return this.#object(slot, readSerializable(this.#in));
      case c('E'):
        return this.#object(slot, readEnumCase(this.#in));
      case c('r'):
        return this.#objectReference(slot);
      case c('S'):
        return this.#in.fail(
          'escaped strings (S:), which PHP 8 never writes, are not supported',
          start,
        );
      default:
        return this.#in.fail(`expected a value, found ${describe(type)}`, start);
    }
  }

  /**
   * A scalar read; `from`, for a number PHP wrote in another form than Node writes it
   * (`d:1;`, which Node writes `i:1;`), is where its text starts: that text is kept.
   */
  #scalar(slot: number, frame: Frame | undefined, key: string, value: unknown, from?: number) {
    this.#numbers.scalar(slot);
    if (frame && from !== undefined) {
      frame.meta.texts ??= new Map();
      frame.meta.texts.set(key, { value, text: this.#in.ascii(from, this.#in.pos) });
    }
    return value;
  }

  #object<T extends PhpEnum | PhpSerializable>(slot: number, value: T): T {
    this.#numbers.object(slot, value);
    return value;
  }

  #container(slot: number, className: string | undefined, asObject: boolean): object {
    const what = className === undefined ? 'array' : 'object';
    const count = this.#in.lengthThenColon(`${what} size`);
    this.#in.expect(OPEN);
    const remaining = this.#in.length - this.#in.pos;
    if (count * MIN_ELEMENT_BYTES + 1 > remaining) {
      this.#in.fail(
        `the ${what} claims ${count} element${count === 1 ? '' : 's'}, more than the ${remaining} bytes left can hold`,
      );
    }
    if (++this.#depth > MAX_DEPTH) {
      this.#in.fail(`arrays and objects nested deeper than ${MAX_DEPTH} levels`);
    }
    const frame = newFrame(className !== undefined, className === undefined ? {} : { className });
    this.#numbers.container(slot, frame);
    const target = frame.holder.target as Record<string, unknown>;
    for (let i = 0; i < count; i++) {
      const key = this.#key(frame);
      if (!Object.hasOwn(target, key)) frame.keys.push(key);
      define(target, key, this.value(frame, key));
    }
    if (this.#in.peek() !== CLOSE) {
      this.#in.fail(
        `expected "}" after the ${count} elements of the ${what}, found ${describe(this.#in.peek())}`,
      );
    }
    this.#in.skip();
    this.#depth -= 1;
    frame.open = false;
    return finish(frame, className === undefined && !asObject);
  }

  /** An array key (`i:` or `s:`) or property name; an integer reads as its decimal text. */
  #key(frame: Frame): string {
    const type = this.#in.peek();
    let key: string;
    let integer: boolean;
    if (type === c('i')) {
      this.#in.skip();
      this.#in.expect(COLON);
      key = String(this.#in.integer());
      this.#in.expect(SEMICOLON);
      integer = true;
    } else if (type === c('s')) {
      this.#in.skip();
      this.#in.expect(COLON);
      key = this.#in.string();
      this.#in.expect(SEMICOLON);
      integer = false;
    } else {
      return this.#in.fail(`expected a key (i: or s:), found ${describe(type)}`);
    }
    if (integer !== (!frame.stringKeys && isIntegerKey(key))) {
      frame.meta.otherKind ??= new Set();
      frame.meta.otherKind.add(key);
    }
    return key;
  }

  /** `R:n;`: the value numbered n itself (a PHP reference); it takes no number of its own. */
  #reference(frame: Frame | undefined, key: string): unknown {
    const at = this.#in.pos;
    this.#in.skip();
    const target = this.#target(at, 'R');
    if (!frame) return this.#in.fail('a reference cannot be the session itself', at);
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

  /** `r:n;`: the object numbered n again (PHP allows only objects here); it is numbered too. */
  #objectReference(slot: number): unknown {
    const at = this.#in.pos - 1;
    const target = this.#target(at, 'r');
    if (target.kind === 'object') {
      this.#numbers.object(slot, target.value);
      return target.value;
    }
    if (target.kind === 'container' && target.frame.meta.className !== undefined) {
      this.#numbers.container(slot, target.frame);
      return target.frame.holder.target;
    }
    return this.#in.fail('r: refers to a value that is not an object', at);
  }

  /** `:n;` of `r:` or `R:`: the value numbered n (`r:` is numbered itself, before it). */
  #target(at: number, type: string): NumberedValue {
    this.#in.expect(COLON);
    const n = this.#in.digits('reference number');
    this.#in.expect(SEMICOLON);
    const before = type === 'r' ? this.#numbers.count - 1 : this.#numbers.count;
    const found = this.#numbers.find(n, before);
    if (found) return found;
    return this.#in.fail(`${type}:${n} refers to value ${n}, but ${before} values came before`, at);
  }
}
