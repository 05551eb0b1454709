/**
 * The two PHP values that have no plain JavaScript counterpart. Every other PHP value
 * reads as a plain one (see the README's table "PHP session formats").
 */

/** A PHP enum case (`E:11:"Suit:Hearts";`): its enum's class name and the case's name. */
export class PhpEnum {
  readonly className: string;
  readonly caseName: string;

  constructor(className: string, caseName: string) {
    this.className = className;
    this.caseName = caseName;
    Object.freeze(this);
  }

  /** `Suit::Hearts`, as PHP code names the case. */
  toString(): string {
    return `${this.className}::${this.caseName}`;
  }
}

/**
 * An object of a PHP class implementing `Serializable` (`C:3:"Foo":5:{...}`): what its
 * `serialize()` method returned is kept as it is, and written back unchanged.
 */
export class PhpSerializable {
  readonly className: string;
  readonly data: string;

  constructor(className: string, data: string) {
    this.className = className;
    this.data = data;
    Object.freeze(this);
  }
}
