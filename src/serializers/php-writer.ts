import { metaOf, type PhpMeta } from './php-metadata.js';
import { MAX_DEPTH } from './php-reader.js';
import { isIntegerKey, phpNumberText } from './php-scalars.js';
import { PhpEnum, PhpSerializable } from './php-values.js';

const LONE_SURROGATE = /\p{Cs}/u;

/** The length of `text` in UTF-8 bytes, as PHP counts it; lone surrogates have none. */
export function phpByteLength(text: string, what: string): number {
  if (LONE_SURROGATE.test(text)) {
    throw new Error(`${what} is not valid Unicode (a lone surrogate): it has no UTF-8 bytes`);
  }
  return Buffer.byteLength(text, 'utf8');
}

/** `len:"text"`, the length in UTF-8 bytes, as in `s:` and class names. */
export function phpBytes(text: string, what: string): string {
  return `${phpByteLength(text, what)}:"${text}"`;
}

/**
 * Writes values in PHP's serialize() format as PHP 8 writes them, numbering them as PHP
 * does so that references (`r:`, `R:`) point where PHP's unserialize() looks. What a
 * value read from PHP remembers ({@link PhpMeta}) brings it back unchanged; a new value
 * is written the way PHP writes the closest PHP value. One writer writes one session.
 */
export class PhpWriter {
  /** Values numbered so far. */
  #count = 0;
  readonly #seen = new Map<object, number>();
  readonly #enums = new Map<string, number>();
  /** Numbers of the scalars that references point to, by their container and key. */
  readonly #targets = new Map<object, Map<string, number>>();
  #depth = 0;

  /**
   * The value held at `key` of `holder` (whose metadata is `meta`); `undefined` for a
   * value JSON would leave out of an object (undefined, a function, a symbol), which
   * an array writes as `N;`.
   */
  value(item: unknown, holder: object, key: string, meta: PhpMeta | undefined, inArray: boolean) {
    const ref = meta?.refs?.get(key);
    if (ref && (typeof item !== 'object' || item === null)) {
      const slot = this.#targets.get(ref.holder.target)?.get(ref.key);
      const target = (ref.holder.target as Record<string, unknown>)[ref.key];
      if (slot !== undefined && Object.is(target, item)) {
        return `R:${slot};`;
      }
    }
    let value = item;
    if (
      typeof value === 'object' &&
      value !== null &&
      typeof (value as { toJSON?: unknown }).toJSON === 'function' &&
      !metaOf(value)
    ) {
      value = (value as { toJSON: (key: string) => unknown }).toJSON(key);
    }
    switch (typeof value) {
      case 'undefined':
      case 'function':
      case 'symbol':
        if (!inArray) return undefined;
        return this.#scalar('N;', holder, key, meta);
      case 'boolean':
        return this.#scalar(value ? 'b:1;' : 'b:0;', holder, key, meta);
      case 'number':
      case 'bigint': {
        const kept = meta?.texts?.get(key);
        const text = kept && Object.is(kept.value, value) ? kept.text : phpNumberText(value);
        return this.#scalar(text, holder, key, meta);
      }
      case 'string':
        return this.#scalar(`s:${phpBytes(value, 'a string')};`, holder, key, meta);
      default:
        if (value === null) return this.#scalar('N;', holder, key, meta);
        return this.#object(value as object, meta?.refs?.has(key) === true, false);
    }
  }

  /** The `php_serialize` session: one array, numbered 1, whatever class it was given. */
  sessionArray(session: object): string {
    return this.#object(session, false, true);
  }

  #scalar(text: string, holder: object, key: string, meta: PhpMeta | undefined): string {
    this.#count += 1;
    if (meta?.targets?.has(key)) {
      const slots = this.#targets.get(holder) ?? new Map<string, number>();
      this.#targets.set(holder, slots.set(key, this.#count));
    }
    return text;
  }

  #object(value: object, wasReference: boolean, asArray: boolean): string {
    const meta = metaOf(value);
    const className = asArray ? undefined : meta?.className;
    const enumName = value instanceof PhpEnum ? `${value.className}:${value.caseName}` : undefined;
    const known = enumName === undefined ? this.#seen.get(value) : this.#enums.get(enumName);
    if (known !== undefined) {
      // The same JS object again: PHP's reference (R:) to an array or a referenced
      // object, PHP's object handle (r:) to an object, which takes a number of its own.
      const object =
        className !== undefined || value instanceof PhpEnum || value instanceof PhpSerializable;
      if (wasReference || !object) return `R:${known};`;
      this.#count += 1;
      return `r:${known};`;
    }
    this.#count += 1;
    if (enumName !== undefined) {
      this.#enums.set(enumName, this.#count);
      return `E:${phpBytes(enumName, 'an enum name')};`;
    }
    this.#seen.set(value, this.#count);
    if (value instanceof PhpSerializable) {
      const data = phpByteLength(value.data, 'Serializable data');
      return `C:${phpBytes(value.className, 'a class name')}:${data}:{${value.data}}`;
    }
    if (++this.#depth > MAX_DEPTH) {
      throw new Error(`the session nests arrays and objects deeper than ${MAX_DEPTH} levels`);
    }
    const array = Array.isArray(value);
    const record = value as Record<string, unknown>;
    let body = '';
    let count = 0;
    for (const key of orderedKeys(value, meta?.order)) {
      const text = this.value(record[key], value, key, meta, array);
      if (text === undefined) continue;
      const integer =
        (className === undefined && isIntegerKey(key)) !== (meta?.otherKind?.has(key) === true);
      body += integer ? `i:${key};` : `s:${phpBytes(key, 'a key')};`;
      body += text;
      count += 1;
    }
    this.#depth -= 1;
    return className === undefined
      ? `a:${count}:{${body}}`
      : `O:${phpBytes(className, 'a class name')}:${count}:{${body}}`;
  }
}

/** The object's own enumerable keys, those PHP ordered in PHP's order, new ones after them. */
export function orderedKeys(value: object, order: readonly string[] | undefined): string[] {
  const keys = Object.keys(value);
  if (!order) return keys;
  const present = new Set(keys);
  const ordered = order.filter((key) => present.has(key));
  if (ordered.length === keys.length) return ordered;
  const known = new Set(order);
  for (const key of keys) if (!known.has(key)) ordered.push(key);
  return ordered;
}
