/**
 * SessionPgsql.generateId(): the ids adapters give new sessions (the Hono middleware) are
 * 256 random bits that the store's idPattern accepts; an idPattern that accepts neither
 * encoding is an error, not an id the store would then refuse.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { SessionPgsql } from '../../src/index.js';

// no statement runs: nothing connects
const stores: SessionPgsql[] = [];
const store = (idPattern?: RegExp) => {
  const made = new SessionPgsql({
    db: 'postgres://nobody@127.0.0.1:1/none',
    gcInterval: 0,
    ...(idPattern ? { idPattern } : {}),
  });
  stores.push(made);
  return made;
};
after(() => Promise.all(stores.map((s) => s.close())));

describe('generateId', () => {
  it('makes 43 base64url characters under the default idPattern, never the same twice', () => {
    const s = store();
    const ids = new Set(Array.from({ length: 1000 }, () => s.generateId()));
    assert.equal(ids.size, 1000);
    for (const id of ids) {
      assert.match(id, /^[A-Za-z0-9_-]{43}$/);
      assert.match(id, s.options.idPattern);
    }
  });

  it('makes 64 hex digits for an idPattern that refuses base64url', () => {
    const s = store(/^[0-9a-f]{64}$/);
    for (let i = 0; i < 100; i++) assert.match(s.generateId(), /^[0-9a-f]{64}$/);
  });

  it('an idPattern that accepts neither: SPG_INVALID_OPTION', () => {
    assert.throws(() => store(/^[0-9]{10}$/).generateId(), { code: 'SPG_INVALID_OPTION' });
  });
});
