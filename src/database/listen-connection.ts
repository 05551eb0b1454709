/** The part of a `pg` Client used for LISTEN: its queries and its notifications. */
export interface PgClientLike {
  query(text: string): Promise<unknown>;
  on(
    event: 'notification',
    listener: (message: { channel: string; payload?: string | undefined }) => void,
  ): unknown;
  on(event: 'error' | 'end', listener: (error?: Error) => void): unknown;
}

/** A dedicated connection that receives notifications (a `pg` Client, or a client held from a pool). */
export interface ListenConnection extends PgClientLike {
  /** Closes or releases the connection. */
  close(): Promise<void>;
}
