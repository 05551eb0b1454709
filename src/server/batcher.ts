/** A result that fails its one caller only (the rest of its batch succeeded). */
export class ItemFailure {
  readonly error: unknown;
  constructor(error: unknown) {
    this.error = error;
  }
}

interface Waiting<Item, Result> {
  readonly item: Item;
  readonly resolve: (result: Result) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Gathers the calls made during one turn of the event loop and runs them together:
 * the requests a busy server parses in one turn cost one round trip instead of one each
 * (what Redis clients do with pipelining). A call waits at most until the end of the
 * current turn. `run` answers the items in order (an `ItemFailure` fails that one call);
 * when it fails, every call of its batch fails with its error. With `keyOf`, a batch never holds two items of one key: the later
 * one goes in another batch (an UPDATE joined with its input changes a row once, however
 * many input rows match it).
 */
export class Batcher<Item, Result> {
  readonly #run: (items: Item[]) => Promise<(Result | ItemFailure)[]>;
  readonly #maxItems: number;
  readonly #keyOf: ((item: Item) => string) | undefined;
  #waiting: Waiting<Item, Result>[] = [];

  constructor(
    run: (items: Item[]) => Promise<(Result | ItemFailure)[]>,
    maxItems: number,
    keyOf?: (item: Item) => string,
  ) {
    this.#run = run;
    this.#maxItems = maxItems;
    this.#keyOf = keyOf;
  }

  add(item: Item): Promise<Result> {
    return new Promise((resolve, reject) => {
      if (this.#waiting.push({ item, resolve, reject }) === 1) setImmediate(() => this.#flush());
    });
  }

  #flush(): void {
    let waiting = this.#waiting;
    this.#waiting = [];
    while (waiting.length > 0) {
      const batch = this.#nextBatch(waiting);
      waiting = batch.rest;
      this.#send(batch.items);
    }
  }

  #nextBatch(waiting: Waiting<Item, Result>[]): {
    items: Waiting<Item, Result>[];
    rest: Waiting<Item, Result>[];
  } {
    const keys = new Set<string>();
    const items: Waiting<Item, Result>[] = [];
    const rest: Waiting<Item, Result>[] = [];
    for (const w of waiting) {
      const key = this.#keyOf?.(w.item);
      if (items.length >= this.#maxItems || (key !== undefined && keys.has(key))) rest.push(w);
      else {
        if (key !== undefined) keys.add(key);
        items.push(w);
      }
    }
    return { items, rest };
  }

  #send(batch: Waiting<Item, Result>[]): void {
    this.#run(batch.map((w) => w.item)).then(
      (results) => {
        batch.forEach((w, i) => {
          const result = results[i];
          if (result instanceof ItemFailure) w.reject(result.error);
          else w.resolve(result as Result);
        });
      },
      (error: unknown) => {
        for (const w of batch) w.reject(error);
      },
    );
  }
}

let turnEnd: Promise<void> | undefined;

/**
 * Resolves when the current turn of the event loop ends, where batched reads answer.
 * Cache hits wait for it too: answered at once, inside the socket's callback, each request
 * runs to its response alone, and a busy server then wakes up once per request instead of
 * once for all the requests that arrived together (measured: 0.80x to 0.91x MemoryStore).
 */
export function endOfTurn(): Promise<void> {
  turnEnd ??= new Promise((resolve) =>
    setImmediate(() => {
      turnEnd = undefined;
      resolve();
    }),
  );
  return turnEnd;
}
