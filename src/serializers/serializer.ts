/** Turns a session into the text stored in `sess_data`, and back. */
export interface Serializer<Data = unknown> {
  stringify(data: Data): string;
  parse(text: string): Data;
}
