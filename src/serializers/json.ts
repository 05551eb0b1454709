import type { Serializer } from './serializer.js';

/** The default serializer: JSON. */
export const jsonSerializer: Serializer<unknown> = Object.freeze({
  stringify: (data: unknown) => JSON.stringify(data),
  parse: (text: string) => JSON.parse(text) as unknown,
});
