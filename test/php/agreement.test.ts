/**
 * PHP computes what Node computes, for the same inputs (many, random and chosen): the key a
 * session id is stored under (hashIds) or its refusal, the server a key is placed on, the
 * name of a server (its connection string, password hidden) that placement hashes, the `;`
 * list of servers, the quoted table, its expiry index and lock key, the cache's notification
 * channel, and express-session's cookie signature. One disagreement and PHP would look for
 * a session where Node did not put it.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { redact } from '../../src/database/conninfo.js';
import { splitServers } from '../../src/options/db-option.js';
import { Rendezvous } from '../../src/routing/rendezvous.js';
import { indexName, lockKey } from '../../src/sql/table.js';
import { parseTableName } from '../../src/sql/table-name.js';
import { SessionIds } from '../../src/store/session-ids.js';
import { runPhp } from '../helpers/php.js';

const require = createRequire(import.meta.url);
const signature = require('cookie-signature') as {
  sign(value: string, secret: string): string;
  unsign(value: string, secret: string): string | false;
};

const SCRIPT = fileURLToPath(new URL('./scripts/agreement.php', import.meta.url));
const DEFAULT_ID = /^[A-Za-z0-9_,-]{16,256}$/;

interface PhpAnswers {
  keys: (string | null)[];
  ranks: number[][];
  redacted: string[];
  split: string[][];
  tables: ({ quoted: string; index: string; lock: number; channel: string } | { error: string })[];
  signed: string[];
  unsigned: (string | null)[];
}

interface Inputs {
  ids: string[];
  servers: string[];
  keys: string[];
  conninfos: string[];
  lists: string[];
  tables: string[];
  signed: [string, string][];
  unsigned: [string, string[]][];
}

async function php(inputs: Inputs): Promise<PhpAnswers> {
  const { stdout } = await runPhp({ file: SCRIPT }, { input: JSON.stringify(inputs) });
  return JSON.parse(stdout) as PhpAnswers;
}

/** Text without lone surrogates (JSON carries it to PHP as UTF-8). */
const anyText = (maxLength: number) => fc.string({ unit: 'binary', maxLength });
const idChars = fc.constantFrom(...'abcXYZ019_,-'.split(''));
/** Random inputs from one seed (shown when a check fails; FC_SEED=... replays it). */
const SEED = Number(process.env.FC_SEED ?? Date.now() % 2 ** 31);
let draws = 0;
const sample = <T>(arbitrary: fc.Arbitrary<T>, n: number) =>
  fc.sample(arbitrary, { numRuns: n, seed: SEED + draws++ });
const seeded = `random inputs from FC_SEED=${SEED}`;

const CONNINFOS = [
  'host=db dbname=app user=web password=secret',
  "host=db password='a secret with \\' quote' dbname=app",
  'host=db password=a\\ b dbname=app',
  'PASSWORD = x host=db',
  'host=pg1a,pg1b port=5432,5433 dbname=app user=web target_session_attrs=read-write',
  'postgres://web:secret@db.internal:5432/app',
  'postgresql://web:s%40cret@DB.Internal:05432/app?sslmode=require',
  'POSTGRES://web@db/app',
  'postgres://web:@db/app',
  'postgres://:pw@db/app',
  'postgres://we b:p w@db/a pp?x=1 2',
  'postgres://web:secret@db/app?password=other&Password=x&a=b+c&password=y',
  'postgres://web:secret@pg1:5432,pg2:5433/app?target_session_attrs=read-write',
  'postgres://web:secret@db/a/./b/../c',
  'postgres://db',
  'postgres://web:secret@[::1]:5432/app',
  'postgres://web:sécret@hôst/app',
  'postgres://web:secret@db/app#frag ment',
];

const TABLES = [
  'php_session',
  'sessions.php_session',
  '"my.schema"."Sessions"',
  'with"quote',
  '"',
  'a.b.c',
  'trailing.',
  '.leading',
  'x'.repeat(63),
  'x'.repeat(64),
  'é'.repeat(40),
  'ü'.repeat(31),
  `${'t'.repeat(60)}_long`,
  `schema.${'日本'.repeat(10)}`,
];

function nodeTable(input: string): PhpAnswers['tables'][number] {
  try {
    const table = parseTableName(input);
    return {
      quoted: table.quoted,
      index: indexName(table),
      lock: lockKey(table.quoted),
      channel: `session_pgsql_${createHash('sha1').update(table.quoted).digest('hex').slice(0, 16)}`,
    };
  } catch (error) {
    return { error: (error as { code: string }).code };
  }
}

describe('PHP and Node agree', () => {
  const ids = [
    ...sample(fc.string({ unit: idChars, minLength: 16, maxLength: 256 }), 200),
    ...sample(anyText(300), 200),
    'a'.repeat(15),
    'a'.repeat(257),
    `${'a'.repeat(20)}\n`,
    `${'a'.repeat(20)}\0`,
    "x'; DROP TABLE php_session; --xxxxxxxx",
  ];
  const servers = [
    'postgres://postgres:***@127.0.0.1:33981/sessions',
    'postgres://postgres:***@127.0.0.1:37321/sessions',
    'host=pg3 dbname=app user=web password=***',
    'host=é日本 dbname=🔑',
  ];
  const keys = [
    ...ids
      .filter((id) => DEFAULT_ID.test(id))
      .map((id) => new SessionIds(DEFAULT_ID, true).key(id) as string),
    ...sample(anyText(50), 200),
  ];
  const conninfos = [
    ...CONNINFOS,
    ...sample(
      anyText(80).map((s) => `host=h password=${s}`),
      100,
    ),
  ];
  const lists = [
    "host=a dbname=x; host=b password='with;semicolon' ;;host=c",
    ...sample(anyText(60), 100),
    ...conninfos,
  ];
  const tables = [...TABLES, ...sample(anyText(70), 150)];
  const secrets = [
    'express-app-test-secret',
    'é🔑',
    ...sample(
      anyText(40).filter((s) => s.length > 0),
      30,
    ),
  ];
  const signed: [string, string][] = ids
    .slice(0, 60)
    .map((id, i) => [id, secrets[i % secrets.length] as string]);
  const good = signed.map(([id, secret]) => `s:${signature.sign(id, secret)}`);
  const unsigned: [string, string[]][] = [
    ...good.map((value, i): [string, string[]] => [
      value,
      ['other secret', signed[i]?.[1] as string],
    ]),
    ...good.map((value): [string, string[]] => [value, ['wrong']]),
    ...good.map((value): [string, string[]] => [
      `${value.slice(0, -1)}${value.endsWith('A') ? 'B' : 'A'}`,
      [secrets[0] as string],
    ]),
    ...good.map((value): [string, string[]] => [value.slice(2), [secrets[0] as string]]),
    ['s:nodot', ['x']],
    ['s:', ['x']],
  ];
  let answers: PhpAnswers;
  const inputs: Inputs = { ids, servers, keys, conninfos, lists, tables, signed, unsigned };

  it('on the key of each session id (SHA-256, base64url) and on which ids never reach SQL', async () => {
    answers = await php(inputs);
    const node = new SessionIds(DEFAULT_ID, true);
    assert.deepEqual(
      answers.keys,
      ids.map((id) => node.key(id) ?? null),
      seeded,
    );
    assert.ok(answers.keys.filter((k) => k !== null).length >= 200, 'valid ids were checked');
  });

  it("on the server of each key (rendezvous hashing over the servers' names)", async () => {
    answers ??= await php(inputs);
    const rendezvous = new Rendezvous(servers);
    assert.deepEqual(
      answers.ranks,
      keys.map((key) => rendezvous.rank(key)),
      seeded,
    );
  });

  it('on the name of each server: its connection string with the password hidden', async () => {
    answers ??= await php(inputs);
    assert.deepEqual(answers.redacted, conninfos.map(redact), seeded);
    assert.ok(
      !answers.redacted.some((name) => name.includes('secret') && !name.includes('with')),
      'passwords hidden',
    );
  });

  it("on session_pgsql's ;-separated list of servers", async () => {
    answers ??= await php(inputs);
    assert.deepEqual(answers.split, lists.map(splitServers), seeded);
  });

  it('on the table: quoting, refusal of bad names, expiry index, lock key and notification channel', async () => {
    answers ??= await php(inputs);
    assert.deepEqual(answers.tables, tables.map(nodeTable), seeded);
  });

  it("on express-session's cookie signature, and on which signed values verify", async () => {
    answers ??= await php(inputs);
    assert.deepEqual(answers.signed, good);
    assert.deepEqual(
      answers.unsigned,
      unsigned.map(([value, keys]) => {
        if (!value.startsWith('s:')) return null;
        for (const secret of keys) {
          const id = signature.unsign(value.slice(2), secret);
          if (id !== false) return id;
        }
        return null;
      }),
    );
    assert.equal(
      answers.unsigned.filter((id) => id !== null).length,
      good.length,
      'every good signature verified, no other',
    );
  });
});
