/**
 * Logout and change during an outage, through Express with a browser's cookies. A visitor
 * whose session lives on the stopped server gets an error, never a new session: a new
 * session would make the logout destroy that one, and the old session, logged in, would be
 * back with its server. Whatever got a success during the outage holds afterwards.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { reportFault } from '../faults/fault-report.js';
import { type Client, startApp, type TestApp } from '../helpers/express-app.js';
import { placement, uniqueTable, useFleet, waitUntil } from './fixtures.js';

const fleet = useFleet('outage-logout', {});

/** A visitor who logged in as `user` through the app, and the servers of its session. */
async function logIn(app: TestApp, user: string): Promise<{ client: Client; order: number[] }> {
  const client = app.client();
  const reply = await client.post(`/set?key=user&value=${user}`);
  assert.equal(reply.status, 200);
  const order = (await placement(app.store.core as never))(client.sessionId ?? '');
  return { client, order };
}

/** Logs visitors in until one's session lives on server `home`. */
async function logInHomedOn(app: TestApp, user: string, home: number): Promise<Client> {
  for (let attempt = 0; attempt < 60; attempt++) {
    const { client, order } = await logIn(app, user);
    if (order[0] === home) return client;
  }
  throw new Error(`no session homed on server ${home} in 60 tries`);
}

describe('logout and change during an outage, with browser cookies', () => {
  const victim = 1;
  let app: TestApp;

  before(async () => {
    app = await startApp({
      store: { db: [...fleet.urls], table: uniqueTable(), healthCheckMillis: 100 },
    });
  });
  after(() => app.close());

  it('a session on the stopped server: errors, no new session; successes hold after it returns', async (t) => {
    const alice = await logInHomedOn(app, 'alice', victim);
    const aliceId = alice.sessionId;
    const carol = await logInHomedOn(app, 'carol', 0);

    await fleet.servers[victim]?.stop('immediate');
    let bobId: string | undefined;
    try {
      const read = await alice.get<{ code: string }>('/session');
      assert.equal(read.status, 500);
      assert.equal(read.body.code, 'SPG_DB_UNREACHABLE');
      assert.equal(read.setCookie, undefined, 'no new session handed out');
      const logout = await alice.post<{ code: string }>('/logout');
      assert.equal(logout.status, 500, 'the logout says it failed');
      assert.equal(alice.sessionId, aliceId);
      // sessions on the other servers are served as usual
      const served = await carol.get('/session');
      assert.equal(served.status, 200);
      assert.equal(served.body.data.user, 'carol');
      // a visitor who logs in and out during the outage (home: the stopped server)
      const bob = await logInHomedOn(app, 'bob', victim);
      bobId = bob.sessionId;
      assert.equal((await bob.post('/logout')).status, 200);
    } finally {
      await fleet.servers[victim]?.start();
    }
    await waitUntil('the server to serve alice again', async () => {
      return (await alice.get('/session')).status === 200;
    });
    // alice's logout failed visibly: she is still logged in, with the same session
    const back = await alice.get('/session');
    assert.equal(back.body.data.user, 'alice');
    assert.equal(back.body.id, aliceId);
    assert.equal((await alice.post('/logout')).status, 200);
    const after = app.client();
    after.useSessionId(aliceId ?? '');
    assert.equal((await after.get('/session')).body.data.user, undefined, 'alice logged out');
    // bob logged out during the outage (200): his old cookie opens nothing
    const bobAgain = app.client();
    bobAgain.useSessionId(bobId ?? '');
    const reply = await bobAgain.get('/session');
    assert.equal(reply.status, 200);
    assert.equal(reply.body.data.user, undefined, 'bob stays logged out');
    reportFault(t, import.meta.url, {
      fault: 'Logout and change during an outage',
      done: 'one of three servers stopped; browsers with cookies read, log in and log out through Express',
      held: 'a session on the stopped server gets an error, never a new session; a logout that answered 200 holds after the server returns; one that failed says so',
      sessions: 3,
      lost: 0,
      failed: 2,
    });
  });
});
