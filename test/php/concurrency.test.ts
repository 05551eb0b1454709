/**
 * Two PHP requests on one session at once (two PHP processes: the first starts the second
 * while its own session is open, and writes after the second finished). The handler holds
 * no lock across a request, as the Node store: each write is a compare-and-set on what the
 * request read, and a write that lost the race is merged into the other one key by key.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { storedKey, storedRow, uniqueTable, useTestDatabase } from '../core/fixtures.js';
import { type PhpRequestSpec, phpOk, phpRequest } from '../helpers/php-session.js';

const db = useTestDatabase();

async function stored(table: string, id: string) {
  return (await storedRow(db.admin, table, storedKey(id))) ?? null;
}

describe('concurrent PHP requests on one session', () => {
  it('merge by key: each keeps what it changed, the other keys as the other request left them', async () => {
    const table = uniqueTable('concurrent');
    const options = { db: db.url, table, gcInterval: 0 };
    const { id } = await phpOk({
      options,
      steps: [['start'], ['set', 'shared', 'start'], ['set', 'drop', 1], ['set', 'keep', 'k']],
    });
    const other: PhpRequestSpec = {
      options,
      id,
      steps: [['start'], ['set', 'b', 'B'], ['set', 'shared', 'theirs'], ['unset', 'drop']],
    };
    const first = await phpOk({
      options,
      id,
      steps: [['start'], ['set', 'a', 'A'], ['set', 'shared', 'ours'], ['spawn', other]],
    });
    assert.equal(
      (first.results[3] as { error: unknown }).error,
      null,
      'the other request succeeded',
    );
    const row = await stored(table, id);
    assert.equal(row?.sess_data, 'shared|s:4:"ours";keep|s:1:"k";b|s:1:"B";a|s:1:"A";');
    assert.equal(row?.sess_counter, 3, 'three writes, three accesses: none lost');
  });

  it('a session destroyed by the other request (a logout) stays destroyed', async () => {
    const table = uniqueTable('concurrent');
    const options = { db: db.url, table, gcInterval: 0 };
    const { id } = await phpOk({ options, steps: [['start'], ['set', 'user', 'alice']] });
    await phpOk({
      options,
      id,
      steps: [
        ['start'],
        ['set', 'cart', 3],
        ['spawn', { options, id, steps: [['start'], ['destroy']] }],
      ],
    });
    assert.equal(await stored(table, id), null);
  });

  it('metadata written on an unchanged session keeps the data the other request wrote', async () => {
    const table = uniqueTable('concurrent');
    const options = { db: db.url, table, gcInterval: 0 };
    const { id } = await phpOk({ options, steps: [['start'], ['set', 'v', 1]] });
    await phpOk({
      options,
      id,
      steps: [
        ['start'],
        ['setField', 'mine'],
        ['spawn', { options, id, steps: [['start'], ['set', 'v', 2]] }],
      ],
    });
    const row = await stored(table, id);
    assert.equal(row?.sess_data, 'v|i:2;');
    assert.equal(row?.sess_custom, 'mine');
    assert.equal(row?.sess_counter, 3);
  });

  it('a session another application rewrote meanwhile in another format: the write fails typed, that row stays, nothing is destroyed', async () => {
    const table = uniqueTable('concurrent');
    const options = { db: db.url, table, gcInterval: 0 };
    const { id } = await phpOk({ options, steps: [['start'], ['set', 'a', 1]] });
    const json = '{"cookie":{"originalMaxAge":null},"a":2}';
    const reply = await phpRequest({
      options,
      id,
      steps: [
        ['start'],
        ['set', 'b', 1],
        ['sql', `UPDATE "${table}" SET sess_data = $1 WHERE sess_id = $2`, [json, storedKey(id)]],
      ],
    });
    assert.equal(reply.error?.code, 'SPG_PARSE_FAILED');
    assert.doesNotMatch(
      reply.stderr,
      /Warning/,
      'session_decode() never ran on it (it destroys the session module state)',
    );
    assert.equal((await stored(table, id))?.sess_data, json);
  });

  it('data holding PHP references is not merged: the request that writes last wins, as documented', async () => {
    const table = uniqueTable('concurrent');
    const options = { db: db.url, table, gcInterval: 0 };
    const { id } = await phpOk({ options, steps: [['start'], ['sharedObject', 1]] });
    await phpOk({
      options,
      id,
      steps: [
        ['start'],
        ['set', 'a', 'A'],
        ['spawn', { options, id, steps: [['start'], ['set', 'b', 'B']] }],
      ],
    });
    const row = await stored(table, id);
    assert.equal(row?.sess_data, 'first|O:8:"stdClass":1:{s:1:"v";i:1;}second|r:1;a|s:1:"A";');
    assert.equal(row?.sess_counter, 3);
  });

  it('works with every serialize_handler: php_serialize merges alike', async () => {
    const table = uniqueTable('concurrent');
    const options = { db: db.url, table, gcInterval: 0 };
    const ini = { 'session.serialize_handler': 'php_serialize' };
    const { id } = await phpOk({ options, ini, steps: [['start'], ['set', 'x', 1]] });
    await phpOk({
      options,
      ini,
      id,
      steps: [
        ['start'],
        ['set', 'a', 1],
        ['spawn', { options, ini, id, steps: [['start'], ['set', 'b', 2]] }],
      ],
    });
    assert.equal(
      (await stored(table, id))?.sess_data,
      'a:3:{s:1:"x";i:1;s:1:"b";i:2;s:1:"a";i:1;}',
    );
  });
});
