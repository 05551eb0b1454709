/**
 * Property-based tests (fast-check) of what the store takes from outside: session ids,
 * session data, options and serializers. Random and hostile input never crashes the store
 * and never gets an uncoded error; an invalid id never reaches SQL; what is valid
 * round-trips through a real PostgreSQL.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type Serializer,
  SessionPgsql,
  SessionPgsqlError,
  type SessionPgsqlOptions,
} from '../../src/index.js';
import { optionTexts } from '../../src/options/options.js';
import { type Data, uniqueTable, useTestDatabase } from '../core/fixtures.js';

const db = useTestDatabase();

const DEFAULT_ID = /^[A-Za-z0-9_,-]{16,256}$/;

/** Strings a hostile cookie may carry: any code points, quotes, NUL, SQL, very long. */
const hostileString = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: fc.constantFrom('a', "'", '"', '\0', '\\', ';', '-', ' ', 'é', '🔑', '%') }),
  fc.constantFrom("x'; DROP TABLE sessions; --", 'a'.repeat(2000), '', ' '.repeat(20)),
);

/** Valid ids of the default idPattern. */
const validId = fc.string({
  unit: fc.constantFrom(...'abcXYZ019_,-'.split('')),
  minLength: 16,
  maxLength: 256,
});

/** Statements that read or write sessions, as `status()` counts them. */
async function sessionStatements(store: SessionPgsql<Data>): Promise<number> {
  const counts = (await store.status()).servers[0]?.statements ?? {};
  return ['read', 'readMany', 'write', 'update', 'updateMany', 'touch', 'destroy'].reduce(
    (total, kind) => total + (counts[kind] ?? 0),
    0,
  );
}

function assertCoded(error: unknown, ...codes: string[]): void {
  assert.ok(error instanceof SessionPgsqlError, `a SessionPgsqlError, got ${String(error)}`);
  if (codes.length > 0) assert.ok(codes.includes(error.code), error.code);
}

describe('session ids', () => {
  it('any string: a read resolves (absent when invalid), a write of an invalid id rejects coded; no SQL for invalid ids', async () => {
    const store = db.stores.open<Data>({ db: db.url, table: uniqueTable(), gcInterval: 0 });
    await fc.assert(
      fc.asyncProperty(hostileString, async (id) => {
        const valid = DEFAULT_ID.test(id);
        const before = await sessionStatements(store);
        const read = await store.read(id);
        if (!valid) {
          assert.equal(read, undefined);
          await assert.rejects(store.write(id, { x: 1 }), { code: 'SPG_INVALID_SESSION_ID' });
          await assert.rejects(store.touch(id), { code: 'SPG_INVALID_SESSION_ID' });
          await store.destroy(id);
          assert.equal(await sessionStatements(store), before, 'no statement ran');
        }
      }),
      { numRuns: 300 },
    );
  });

  it('valid ids round-trip, each to its own session', async () => {
    const store = db.stores.open<Data>({ db: db.url, table: uniqueTable(), gcInterval: 0 });
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(validId, { minLength: 1, maxLength: 5 }), async (ids) => {
        for (const id of ids) await store.write(id, { id });
        for (const id of ids) assert.deepEqual((await store.read(id))?.data, { id });
        for (const id of ids) await store.destroy(id);
      }),
      { numRuns: 60 },
    );
  });
});

describe('session data', () => {
  it('any JSON value round-trips as JSON does; nothing else is stored', async () => {
    const store = db.stores.open<unknown>({ db: db.url, table: uniqueTable(), gcInterval: 0 });
    await fc.assert(
      fc.asyncProperty(validId, fc.jsonValue({ maxDepth: 6 }), async (id, value) => {
        await store.write(id, value);
        const expected = JSON.parse(JSON.stringify(value)) as unknown;
        assert.deepEqual((await store.read(id))?.data, expected);
      }),
      { numRuns: 200 },
    );
  });

  it('data over maxSessionBytes or that JSON cannot write is refused coded, the stored session kept', async () => {
    const store = db.stores.open<unknown>({
      db: db.url,
      table: uniqueTable(),
      gcInterval: 0,
      maxSessionBytes: 2000,
    });
    const unwritable = fc.oneof(
      fc.bigInt().map((n) => ({ n })),
      fc.string({ minLength: 2001, maxLength: 4000 }).map((s) => ({ s })),
    );
    await fc.assert(
      fc.asyncProperty(validId, unwritable, async (id, value) => {
        await store.write(id, { kept: true });
        await store.write(id, value).then(
          () => assert.fail('accepted'),
          (error: unknown) => assertCoded(error, 'SPG_SERIALIZE_FAILED', 'SPG_SESSION_TOO_LARGE'),
        );
        assert.deepEqual((await store.read(id))?.data, { kept: true });
      }),
      { numRuns: 60 },
    );
  });
});

describe('options', () => {
  const names = Object.keys(optionTexts);
  const anyValue = fc.oneof(
    fc.anything({ maxDepth: 2 }),
    fc.integer({ min: -(2 ** 40), max: 2 ** 40 }),
    fc.double(),
    fc.constantFrom(0, -1, 1, 2 ** 31, Number.NaN, Number.POSITIVE_INFINITY, '', 'x', null),
  );
  const options = fc.dictionary(
    fc.oneof(fc.constantFrom(...names), fc.string({ maxLength: 12 })),
    anyValue,
    { maxKeys: 6 },
  );

  it('any options object: a frozen store, or SPG_INVALID_OPTION naming an option; nothing else', async () => {
    await fc.assert(
      fc.asyncProperty(options, async (given) => {
        const withDb = { db: 'postgres://nobody@127.0.0.1:1/nothing', ...given };
        let store: SessionPgsql<unknown> | undefined;
        try {
          store = new SessionPgsql(withDb as SessionPgsqlOptions<unknown>);
        } catch (error) {
          assertCoded(error, 'SPG_INVALID_OPTION');
          assert.match((error as Error).message, /option "|db: /);
          return;
        }
        assert.equal(Object.isFrozen(store.options), true);
        await store.close();
      }),
      { numRuns: 500 },
    );
  });
});

describe('serializers', () => {
  /** A serializer that misbehaves in one of the ways a custom one can. */
  const misbehaving = fc.constantFrom<Serializer<unknown>>(
    {
      stringify: () => {
        throw new Error('cannot write');
      },
      parse: JSON.parse,
    },
    { stringify: () => 42 as unknown as string, parse: JSON.parse },
    { stringify: () => undefined as unknown as string, parse: JSON.parse },
    {
      stringify: JSON.stringify,
      parse: () => {
        throw new Error('cannot read');
      },
    },
  );

  it('a serializer that throws or returns a non-string: coded errors, nothing stored wrong', async () => {
    const table = uniqueTable();
    await fc.assert(
      fc.asyncProperty(misbehaving, validId, fc.jsonValue(), async (serializer, id, value) => {
        const store = new SessionPgsql<unknown>({ db: db.url, table, gcInterval: 0, serializer });
        try {
          await store.write(id, value);
        } catch (error) {
          assertCoded(error, 'SPG_SERIALIZE_FAILED');
          assert.equal(await store.read(id), undefined, 'nothing was stored');
          return;
        } finally {
          await store.read(id).then(
            (loaded) => assert.ok(loaded === undefined || loaded.data !== undefined),
            (error: unknown) => assertCoded(error, 'SPG_PARSE_FAILED'),
          );
          await store.close(); // one store per run: its connections go with it
        }
      }),
      { numRuns: 80 },
    );
  });
});
