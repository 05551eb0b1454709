/**
 * The built package (dist/, made by `npm test`'s pretest or `npx tsup`), loaded by its own
 * name through the exports map, the way users load it.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { sep } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type * as Express from '../../src/adapters/express.js';
import type * as Core from '../../src/index.js';
import { sharedDatabaseUrl } from '../helpers/servers.js';
import { newId } from './fixtures.js';

const require = createRequire(import.meta.url);
/** Specifiers in variables: resolved at run time by Node, against the package's exports. */
const main = 'session-pgsql';
const express = 'session-pgsql/express';

type ExpressSession = { Store: abstract new () => object };

let url: string;
const closers: (() => Promise<void>)[] = [];

before(async () => {
  url = await sharedDatabaseUrl();
});
after(async () => {
  await Promise.all(closers.map((close) => close()));
});

/** A write and a read through a store of the built package, on the real database. */
async function roundTrip(mod: typeof Core, table: string): Promise<void> {
  const store = new mod.SessionPgsql<{ built: string }>({ db: url, table, gcInterval: 0 });
  closers.push(() => store.close());
  const id = newId();
  await store.write(id, { built: table });
  assert.deepEqual((await store.read(id))?.data, { built: table });
  await assert.rejects(store.write('bad id', { built: table }), (error: unknown) => {
    assert.ok(error instanceof mod.SessionPgsqlError);
    assert.equal(error.code, mod.ErrorCodes.INVALID_SESSION_ID);
    return true;
  });
}

describe('the built package', () => {
  it('require() resolves the CommonJS build through the exports map', async () => {
    assert.ok(require.resolve(main).endsWith(`${sep}dist${sep}index.cjs`));
    assert.ok(require.resolve(express).endsWith(`${sep}dist${sep}adapters${sep}express.cjs`));
    const core = require(main) as typeof Core;
    assert.equal(typeof core.SessionPgsql, 'function');
    assert.equal(core.ErrorCodes.DB_UNREACHABLE, 'SPG_DB_UNREACHABLE');
    await roundTrip(core, 'package_cjs');

    const { PgsqlStore } = require(express) as typeof Express;
    const session = require('express-session') as ExpressSession;
    const store = new PgsqlStore({ db: url, table: 'package_cjs_express', gcInterval: 0 });
    closers.push(() => store.core.close());
    assert.ok(store instanceof session.Store);
    assert.equal(typeof store.get, 'function');
  });

  it('import() resolves the ES module build through the exports map', async () => {
    const core = (await import(main)) as typeof Core;
    await roundTrip(core, 'package_esm');
    const { PgsqlStore } = (await import(express)) as typeof Express;
    const { default: session } = (await import('express-session')) as { default: ExpressSession };
    const store = new PgsqlStore({ db: url, table: 'package_esm_express', gcInterval: 0 });
    closers.push(() => store.core.close());
    assert.ok(store instanceof session.Store);
    // the ES build is not the CommonJS one: two different files were loaded
    assert.notEqual(PgsqlStore, (require(express) as typeof Express).PgsqlStore);
  });
});
