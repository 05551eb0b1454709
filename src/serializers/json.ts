/** Turns a session into the text stored in `sess_data`, and back. */
export interface Serializer<Data = unknown> {
  stringify(data: Data): string;
  parse(text: string): Data;
}

/** The default serializer: JSON. */
export const jsonSerializer: Serializer<unknown> = Object.freeze({
  stringify: (data: unknown) => JSON.stringify(data),
  parse: (text: string) => JSON.parse(text) as unknown,
});
