/**
 * The stores compared, all behind express-session's Store interface. Adding a variant is
 * one line in `variants` (e.g. `pgsql('session-pgsql-cache', 'session-pgsql (cache)', { cache: true }, { cache: true })`).
 */
import connectPgSimple from 'connect-pg-simple';
import session from 'express-session';
import { PgsqlStore, type SessionPgsqlOptions } from '../src/adapters/express.js';

export type Family = 'session-pgsql' | 'connect-pg-simple' | 'connect-redis' | 'memory';
export type Backend = 'postgres' | 'redis' | 'memory';

/** Where a store keeps its sessions: each PostgreSQL variant gets its own database. */
export interface StoreTarget {
  readonly postgresUrl?: string | undefined;
  readonly redisUrl?: string | undefined;
}

export interface CollectResult {
  /** When the collection started and ended (performance.now()). */
  readonly startedAt: number;
  readonly endedAt: number;
}

export interface CollectStatements {
  /** Every statement of the collections. */
  readonly all: number;
  /** The DELETE statements among them. */
  readonly deletes: number;
}

export interface OpenedStore {
  readonly store: session.Store;
  close(): Promise<void>;
  /** Deletes the expired sessions now (garbage collection, prune), for the stores that can. */
  collect?(): Promise<CollectResult>;
  /** Statements the collections so far ran (asked outside the timed window: it may query). */
  collectStatements?(): Promise<CollectStatements>;
}

export interface VariantFlags {
  /** Takes part in the collection-at-scale measurement. */
  readonly gc?: boolean;
  /** Takes part in the memory measurement (1,000,000 writes). */
  readonly memory?: boolean;
  /** Judged against the cache targets of issue 4. */
  readonly cache?: boolean;
  /** Judged against the "0 writes per read-only request" target. */
  readonly shortCircuit?: boolean;
}

export interface StoreVariant extends VariantFlags {
  /** Short name, used in database names and BENCH_STORES. */
  readonly id: string;
  /** Name shown in the results. */
  readonly name: string;
  readonly family: Family;
  readonly backend: Backend;
  open(target: StoreTarget): Promise<OpenedStore>;
}

type PgsqlOptions = Omit<SessionPgsqlOptions, 'db' | 'serializer'>;

function pgsql(id: string, name: string, options: PgsqlOptions, flags: VariantFlags = {}) {
  return variant(id, name, 'session-pgsql', 'postgres', flags, async (target) => {
    const store = new PgsqlStore({ ...options, db: required(target.postgresUrl, name) });
    return {
      store,
      close: () => store.close(),
      async collect() {
        const startedAt = performance.now();
        await store.core.gc();
        return { startedAt, endedAt: performance.now() };
      },
      // The store's own counters of its collection statements (gc* but the fleet claim).
      async collectStatements() {
        let all = 0;
        let deletes = 0;
        for (const server of (await store.core.status()).servers) {
          for (const [kind, count] of Object.entries(server.statements)) {
            if (kind.startsWith('gc') && kind !== 'gcClaim') all += count;
            if (kind === 'gcDelete') deletes += count;
          }
        }
        return { all, deletes };
      },
    };
  });
}

const PgStore = connectPgSimple(session);

const connectPgSimpleVariant = variant(
  'connect-pg-simple',
  'connect-pg-simple',
  'connect-pg-simple',
  'postgres',
  { gc: true },
  async (target) => {
    const store = new PgStore({
      conString: required(target.postgresUrl, 'connect-pg-simple'),
      createTableIfMissing: true,
    });
    let prunes = 0;
    return {
      store,
      close: async () => {
        // connect-pg-simple 10 returns a promise; its types say void.
        await (store.close() as unknown as Promise<void> | undefined);
      },
      collect: () =>
        new Promise<CollectResult>((resolve, reject) => {
          const startedAt = performance.now();
          prunes++;
          store.pruneSessions((error) =>
            error ? reject(error) : resolve({ startedAt, endedAt: performance.now() }),
          );
        }),
      // pruneSessions() is one statement: DELETE FROM session WHERE expire < to_timestamp($1)
      collectStatements: async () => ({ all: prunes, deletes: prunes }),
    };
  },
);

const connectRedisVariant = variant(
  'connect-redis',
  'connect-redis',
  'connect-redis',
  'redis',
  {},
  async (target) => {
    // Imported when used: the redis client takes half a second to load.
    const [{ RedisStore }, { createClient }] = await Promise.all([
      import('connect-redis'),
      import('redis'),
    ]);
    const client = createClient({ url: required(target.redisUrl, 'connect-redis') });
    client.on('error', () => {}); // a failing command rejects anyway
    await client.connect();
    return { store: new RedisStore({ client }), close: () => client.close() };
  },
);

const memoryVariant = variant('memory', 'MemoryStore', 'memory', 'memory', {}, async () => ({
  store: new session.MemoryStore(),
  close: async () => {},
}));

export const variants: readonly StoreVariant[] = [
  pgsql('session-pgsql', 'session-pgsql', {}, { gc: true }),
  pgsql(
    'session-pgsql-sc',
    'session-pgsql (short circuit)',
    { shortCircuit: true },
    { shortCircuit: true },
  ),
  pgsql(
    'session-pgsql-cache',
    'session-pgsql (cache)',
    { shortCircuit: true, cache: true },
    { shortCircuit: true, cache: true, memory: true },
  ),
  connectPgSimpleVariant,
  connectRedisVariant,
  memoryVariant,
];

/** The stores each result is compared with. */
export const anchors = [
  { id: 'connect-pg-simple', label: 'connect-pg-simple' },
  { id: 'connect-redis', label: 'connect-redis' },
  { id: 'memory', label: 'MemoryStore' },
] as const;

export function findVariant(id: string): StoreVariant {
  const found = variants.find((v) => v.id === id);
  if (!found) throw new Error(`unknown store variant "${id}"`);
  return found;
}

function variant(
  id: string,
  name: string,
  family: Family,
  backend: Backend,
  flags: VariantFlags,
  open: (target: StoreTarget) => Promise<OpenedStore>,
): StoreVariant {
  return Object.freeze({ id, name, family, backend, ...flags, open });
}

function required(value: string | undefined, what: string): string {
  if (!value) throw new Error(`${what}: no server to connect to`);
  return value;
}
