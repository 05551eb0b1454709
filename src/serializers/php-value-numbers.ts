import type { Frame } from './php-frame.js';
import type { PhpEnum, PhpSerializable } from './php-values.js';

/** A value numbered by PHP, as `r:` and `R:` find it. */
export type NumberedValue =
  | {
      readonly kind: 'scalar';
      readonly value: unknown;
      readonly frame: Frame;
      readonly key: string;
    }
  | { readonly kind: 'container'; readonly frame: Frame }
  | { readonly kind: 'object'; readonly value: PhpEnum | PhpSerializable };

/** What each numbered value is. */
enum Kind {
  Pending,
  Scalar,
  Container,
  Object,
}

/**
 * PHP's numbering of the values it reads (every value but `R:` gets the next number, before
 * what it holds is read), for the references (`r:n;`, `R:n;`) that name them. Kept in flat
 * arrays, by number - 1: no object is made per value read.
 */
export class PhpValueNumbers {
  readonly #kinds: Kind[] = [];
  /** The container a scalar is in, or a container's own frame. */
  readonly #frames: (Frame | undefined)[] = [];
  readonly #keys: string[] = [];
  readonly #objects = new Map<number, PhpEnum | PhpSerializable>();

  /** How many values are numbered. */
  get count(): number {
    return this.#kinds.length;
  }

  /** Numbers the value about to be read, going to `key` of `frame`; returns its slot. */
  next(frame: Frame | undefined, key: string): number {
    this.#frames.push(frame);
    this.#keys.push(key);
    return this.#kinds.push(Kind.Pending) - 1;
  }

  scalar(slot: number): void {
    this.#kinds[slot] = Kind.Scalar;
  }

  container(slot: number, frame: Frame): void {
    this.#kinds[slot] = Kind.Container;
    this.#frames[slot] = frame;
  }

  object(slot: number, value: PhpEnum | PhpSerializable): void {
    this.#kinds[slot] = Kind.Object;
    this.#objects.set(slot, value);
  }

  /** The value numbered `n` among the first `before`; `undefined` if there is none (yet). */
  find(n: number, before: number): NumberedValue | undefined {
    const i = n - 1;
    const kind = n >= 1 && n <= before ? this.#kinds[i] : undefined;
    const frame = this.#frames[i];
    const key = this.#keys[i] ?? '';
    const object = this.#objects.get(i);
    if (kind === Kind.Scalar && frame) {
      const value = (frame.holder.target as Record<string, unknown>)[key];
      return { kind: 'scalar', value, frame, key };
    }
    if (kind === Kind.Container && frame) return { kind: 'container', frame };
    if (kind === Kind.Object && object) return { kind: 'object', value: object };
    return undefined;
  }
}
