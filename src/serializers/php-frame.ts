/** The arrays and objects being read from PHP data, and what each becomes once complete. */
import { type PhpMeta, setMeta } from './php-metadata.js';

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

/** A frame for an array or object about to be read. */
export function newFrame(stringKeys: boolean, meta: PhpMeta): Frame {
  return { holder: { target: {} }, stringKeys, keys: [], meta, open: true, referenced: false };
}

/** Sets a key as its own property, even `__proto__` (which an assignment would take as the prototype). */
export function define(target: object, key: string, value: unknown): void {
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
export function finish(frame: Frame, listable: boolean): object {
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
