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
    const bytes = Buffer.byteLength(text);
    if (bytes > this.#maxBytes) {
      throw new SessionPgsqlError(
        ErrorCodes.SESSION_TOO_LARGE,
        `the session is ${bytes} bytes, over maxSessionBytes (${this.#maxBytes})`,
      );
    }
    return text;
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
