import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SessionPgsql, type SessionStats } from '../../src/index.js';
import { sharedDatabaseUrl } from '../helpers/postgres.js';
import { runQuery } from '../helpers/query.js';
import { storedKey as key } from '../helpers/stored-row.js';
import { runCli } from './run-cli.js';

const table = 'cli_operator';
let url: string;
let store: SessionPgsql<Record<string, unknown>>;
const id = (n: number) => `operator${String(n).padStart(24, '0')}`;
const cli = (...args: string[]) => runCli([...args, '--db', url, '--table', table]);

/** A session of `user` (its custom field), as an application's setField leaves it. */
async function login(sessionId: string, user: string, data: Record<string, unknown>) {
  const state = store.newState(sessionId);
  state.setField(user);
  await store.write(sessionId, data, { state, address: '198.51.100.7' });
}

before(async () => {
  url = await sharedDatabaseUrl();
  store = new SessionPgsql({ db: url, table, gcInterval: 0 });
  await login(id(1), 'alice', { cart: ['tea'] });
  await login(id(2), 'alice', { cart: [] });
  await login(id(3), 'bob', { cart: ['milk'] });
  await store.write(id(4), { gone: true });
  await runQuery(url, `UPDATE ${table} SET sess_expire = sess_expire - 100000 WHERE sess_id = $1`, [
    key(id(4)),
  ]);
});
after(() => store.close());

describe('session-pgsql stats, inspect, revoke', () => {
  it('stats: active and expired sessions, sizes and accesses; --json', async () => {
    const { code, stdout, stderr } = await cli('stats');
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^server 0 \(.*\): up\n {2}sessions {3}3 active, 1 expired\n/);
    assert.match(stdout, /\ntotal: 3 active, 1 expired, \d+ bytes, \d+ accesses\n$/);
    const json = await cli('stats', '--json');
    const result = JSON.parse(json.stdout) as SessionStats;
    assert.equal(result.active, 3);
    assert.equal(result.expired, 1);
    assert.equal(result.servers[0]?.up, true);
  });

  it('inspect ID and inspect --key KEY: the metadata and the data; a missing one is exit code 1', async () => {
    const { code, stdout, stderr } = await cli('inspect', id(1));
    assert.equal(code, 0, stderr);
    assert.match(stdout, new RegExp(`^key +${key(id(1))}$`, 'm'));
    assert.match(stdout, /^custom +alice$/m);
    assert.match(stdout, /^createdAddress +198\.51\.100\.7$/m);
    assert.match(stdout, /^data +\{\n +"cart": \[\n +"tea"/m);
    const json = await cli('inspect', '--key', key(id(3)), '--json');
    assert.equal(json.code, 0, json.stderr);
    const found = JSON.parse(json.stdout) as { custom: string; data: unknown; expired: boolean };
    assert.deepEqual([found.custom, found.data, found.expired], ['bob', { cart: ['milk'] }, false]);
    const missing = await cli('inspect', id(99));
    assert.equal(missing.code, 1);
    assert.equal(missing.stderr, 'no session with that id\n');
    assert.equal((await cli('inspect')).code, 2, 'no ID: usage error');
  });

  it('revoke ID, revoke --key KEY, revoke --user FIELD: deleted everywhere, and say how many', async () => {
    const user = await cli('revoke', '--user', 'alice', '--json');
    assert.equal(user.code, 0, user.stderr);
    assert.deepEqual(JSON.parse(user.stdout), { revoked: 2 });
    assert.equal(await store.read(id(1)), undefined);
    assert.equal(await store.read(id(2)), undefined);
    const byKey = await cli('revoke', '--key', key(id(3)));
    assert.equal(byKey.stdout, 'revoked 1 session\n');
    assert.equal(await store.read(id(3)), undefined);
    await store.write(id(5), { n: 5 });
    assert.equal((await cli('revoke', id(5))).stdout, 'revoked 1 session\n');
    assert.equal(await store.read(id(5)), undefined);
    const again = await cli('revoke', id(5));
    assert.equal(again.code, 0);
    assert.equal(again.stdout, 'no session found: nothing to revoke\n');
    const both = await cli('revoke', id(5), '--user', 'bob');
    assert.equal(both.code, 2);
    assert.match(both.stderr, /revoke takes one of: ID, --key KEY, --user FIELD/);
  });
});
