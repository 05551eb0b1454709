import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import { SessionPgsql } from '../../src/index.js';
import { type Data, newId } from './fixtures.js';

let dir: string;
const warnings: { code: string | undefined; message: string }[] = [];
const onWarning = (warning: Error & { code?: string }) =>
  warnings.push({ code: warning.code, message: warning.message });

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'session-pgsql-embedded-'));
  process.on('warning', onWarning);
});
after(async () => {
  process.off('warning', onWarning);
  await rm(dir, { recursive: true, force: true });
});

const embeddedWarnings = () => warnings.filter((w) => w.code === 'SPG_EMBEDDED_DATABASE');

describe('without db: the embedded PostgreSQL (PGlite)', () => {
  const id = newId();

  it('runs the same SQL: write, read, merge, touch, metadata, gc, destroy', async () => {
    const store = new SessionPgsql<Data>({ embeddedDir: dir, gcInterval: 0 });
    try {
      assert.deepEqual(store.options.db, { kind: 'embedded', dir });
      await store.write(id, { n: 1 }, { address: '127.0.0.1' });
      const loaded = await store.read(id);
      assert.deepEqual(loaded?.data, { n: 1 });
      loaded?.state.setField('custom');
      loaded?.state.addError('error', 'oops');
      await store.write(id, { n: 2 }, { state: loaded?.state });
      assert.equal(await store.touch(id), true);
      const info = (await store.read(id))?.state.info();
      assert.equal(info?.accesses, 3);
      assert.equal(info?.errors, 1);
      assert.equal(info?.errorMessage, 'oops');
      assert.equal(info?.custom, 'custom');
      assert.equal(info?.createdAddress, '127.0.0.1');

      // concurrent writers merge there too
      const x = await store.read(id);
      const y = await store.read(id);
      assert.ok(x?.data && y?.data);
      await store.write(id, { ...x.data, x: true }, { state: x.state });
      await store.write(id, { ...y.data, y: true }, { state: y.state });
      assert.deepEqual((await store.read(id))?.data, { n: 2, x: true, y: true });

      // a session that expires by the database's clock, then collected
      const short = newId();
      await store.write(short, { short: true }, { lifetimeSeconds: 1 });
      assert.equal(await store.length(), 2);
      while ((await store.read(short)) !== undefined) await new Promise((r) => setTimeout(r, 200));
      assert.equal(await store.length(), 1);
      assert.equal(await store.gc(), 1);

      const doomed = newId();
      await store.write(doomed, { doomed: true });
      await store.destroy(doomed);
      assert.equal(await store.read(doomed), undefined);
      assert.deepEqual([...(await store.all()).values()], [{ n: 2, x: true, y: true }]);

      const status = await store.status();
      assert.equal(status.embedded, true);
      assert.equal(status.servers[0]?.up, true);
      assert.match(status.servers[0]?.connection ?? '', /^embedded:/);
    } finally {
      await store.close();
    }
    await tick(); // process.emitWarning delivers on the next tick
    assert.equal(embeddedWarnings().length, 1, JSON.stringify(warnings));
    assert.match(embeddedWarnings()[0]?.message ?? '', /development/);
    assert.ok((await readdir(dir)).length > 0, 'the database is kept in embeddedDir');
  });

  it('keeps the sessions when the store is closed and opened again on the same folder', async () => {
    const store = new SessionPgsql<Data>({ embeddedDir: dir, gcInterval: 0 });
    try {
      assert.deepEqual((await store.read(id))?.data, { n: 2, x: true, y: true });
      assert.equal((await store.read(id))?.state.info().accesses, 5);
      assert.equal(await store.length(), 1);
    } finally {
      await store.close();
    }
    await tick();
    // once per store started
    assert.equal(embeddedWarnings().length, 2);
  });
});
