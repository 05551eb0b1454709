import { ErrorCodes, SessionPgsqlError } from '../errors.js';
import type { Serializer } from '../serializers/serializer.js';

/** The serializer with the store's rules: coded errors, and the size limit on writes. */
export class SessionCodec<Data> {
  readonly #serializer: Serializer<Data>;
  readonly #maxBytes: number;

  constructor(serializer: Serializer<Data>, maxBytes: number) {
    this.#serializer = serializer;
    this.#maxBytes = maxBytes;
  }

  stringify(data: Data): string {
    let text: string;
    try {
      text = this.#serializer.stringify(data);
    } catch (cause) {
      throw new SessionPgsqlError(
        ErrorCodes.SERIALIZE_FAILED,
        `the serializer could not write the session: ${(cause as Error).message}`,
        { cause },
      );
    }
    if (typeof text !== 'string') {
      throw new SessionPgsqlError(
        ErrorCodes.SERIALIZE_FAILED,
        'the serializer did not return a string',
      );
    }
    if (text.includes('\0')) {
      throw new SessionPgsqlError(
        ErrorCodes.SERIALIZE_FAILED,
        'the serialized session holds a NUL character, which PostgreSQL text cannot store (PHP formats write one around the names of protected and private object properties)',
      );
    }
    this.checkSize(text);
    return text;
  }

  /**
   * Refuses a session whose row would be larger than `maxSessionBytes`: its data and the
   * text of its metadata (custom field, last message) together.
   */
  checkSize(text: string, ...metadata: (string | null)[]): void {
    let bytes = Buffer.byteLength(text);
    for (const value of metadata) if (value) bytes += Buffer.byteLength(value);
    if (bytes > this.#maxBytes) {
      throw new SessionPgsqlError(
        ErrorCodes.SESSION_TOO_LARGE,
        `the session is ${bytes} bytes, over maxSessionBytes (${this.#maxBytes})`,
      );
    }
  }

  parse(text: string): Data {
    try {
      return this.#serializer.parse(text);
    } catch (cause) {
      throw new SessionPgsqlError(
        ErrorCodes.PARSE_FAILED,
        `the serializer could not read a stored session: ${(cause as Error).message}`,
        { cause },
      );
    }
  }
}
