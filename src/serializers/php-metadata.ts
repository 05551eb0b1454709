/**
 * What a PHP array or object read from session data keeps that a plain JavaScript object
 * loses, so that an unchanged session is written back byte for byte. It lives in a
 * WeakMap beside the object: invisible to the application, to JSON and to equality, and
 * dropped with the object. A copy of the object (`{ ...obj }`) is a new JavaScript value
 * and is written the way Node writes new values.
 */

/** A place holding a value: the key of an array or object (the object once it is complete). */
export interface Place {
  readonly holder: { target: object };
  readonly key: string;
}

export interface PhpMeta {
  /** The PHP class of an object (`O:`); an array has none. */
  className?: string;
  /** Keys in the order PHP wrote them, when JavaScript orders them otherwise (integer-like keys first). */
  order?: readonly string[];
  /**
   * Keys written as the other kind than the default: for an array, a string key that
   * looks like an integer (`s:1:"1"`); for an object, an integer key (`i:0`, written by
   * `__serialize()`).
   */
  otherKind?: Set<string>;
  /**
   * Values whose text differs from the one Node writes for them (an integral float
   * `d:1;`, which Node would write `i:1;`), kept with that text while the value stays
   * the same.
   */
  texts?: Map<string, { readonly value: unknown; readonly text: string }>;
  /**
   * Values PHP wrote as references (`R:`): the place a scalar refers to, or `null` for an
   * array or object (found by identity).
   */
  refs?: Map<string, Place | null>;
  /** Keys whose scalar value another place refers to. */
  targets?: Set<string>;
}

const metadata = new WeakMap<object, PhpMeta>();

/** @internal The metadata of `value`, if it was read from PHP data or given a class. */
export function metaOf(value: object): PhpMeta | undefined {
  return metadata.get(value);
}

/** @internal */
export function setMeta(value: object, meta: PhpMeta): void {
  metadata.set(value, meta);
}

/** The PHP class of an object read from PHP data (`O:`), or `undefined` for an array or a new object. */
export function getPhpClass(value: object): string | undefined {
  return metadata.get(value)?.className;
}

const CLASS_NAME = /^[A-Za-z0-9_\\\u0080-\u{10FFFF}]+$/u;

/**
 * Makes Node write `value` as an object of PHP class `className` (`O:`) instead of an
 * array; `undefined` makes it an array again. Returns `value`.
 */
export function setPhpClass<T extends object>(value: T, className: string | undefined): T {
  if (className !== undefined && !CLASS_NAME.test(className)) {
    throw new TypeError(`not a PHP class name: ${JSON.stringify(className)}`);
  }
  const meta = metadata.get(value) ?? {};
  if (className === undefined) delete meta.className;
  else meta.className = className;
  metadata.set(value, meta);
  return value;
}

/** Whether `name` is a class name PHP's unserialize() accepts. */
export function isPhpClassName(name: string): boolean {
  return CLASS_NAME.test(name);
}
