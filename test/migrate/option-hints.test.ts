/**
 * Issue 10, point 5: options brought along from connect-pg-simple or session_pgsql's php.ini
 * are refused (as every unknown option is) with a hint naming the option to use, and never
 * with their value, which may hold a password.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SessionPgsql, SessionPgsqlError, type SessionPgsqlOptions } from '../../src/index.js';

/** The error a store constructed with `options` throws. */
function refusal(options: Record<string, unknown>): SessionPgsqlError {
  try {
    const store = new SessionPgsql(options as SessionPgsqlOptions);
    void store.close();
  } catch (error) {
    assert.ok(error instanceof SessionPgsqlError, String(error));
    return error;
  }
  throw new Error(`accepted ${JSON.stringify(Object.keys(options))}`);
}

const db = 'postgres://nobody@127.0.0.1:1/nothing';

describe("connect-pg-simple's option names", () => {
  const cases: [string, unknown, RegExp][] = [
    [
      'conString',
      'postgres://web:s3cret@db/app',
      /use "db" \(a connection string or postgres:\/\/ URL\)/,
    ],
    ['conObject', { password: 's3cret' }, /use "db" .*new pg\.Pool\(conObject\)/],
    ['pool', {}, /pass the pool as "db"/],
    ['pgPromise', {}, /pass the pg Pool under your pg-promise database as "db"/],
    ['tableName', 'session', /use "table"/],
    ['schemaName', 'app', /use "table" with the schema \(table: "schema\.table"\)/],
    ['createTableIfMissing', true, /use "createTable"/],
    ['pruneSessionInterval', 60, /use "gcInterval"/],
    ['pruneSessionRandomizedInterval', false, /jittered/],
    ['errorLog', console.error, /process warnings/],
    ['disableTouch', true, /use "shortCircuit: true"/],
  ];
  for (const [name, value, hint] of cases) {
    it(`${name}: names ours instead`, () => {
      const error = refusal({ db, [name]: value });
      assert.equal(error.code, 'SPG_INVALID_OPTION');
      assert.match(error.message, new RegExp(`^option "${name}" is connect-pg-simple's: `));
      assert.match(error.message, hint);
      assert.doesNotMatch(error.message, /s3cret/);
    });
  }

  it('ttl is the same option here (seconds, for cookies without an expiry)', () => {
    const store = new SessionPgsql({ db, ttl: 3600 });
    assert.equal(store.options.ttlSeconds, 3600);
    void store.close();
  });
});

describe("session_pgsql's php.ini names", () => {
  const cases: [string, RegExp][] = [
    ['session_pgsql.db', /use "db"/],
    ['session_pgsql.failover_mode', /use "failoverMode"/],
    ['session_pgsql.create_table', /use "createTable"/],
    ['session_pgsql.short_circuit', /use "shortCircuit"/],
    ['session_pgsql.keep_expired', /use "keepExpired"/],
    ['session_pgsql.gc_interval', /use "gcInterval"/],
    ['gc_interval', /use "gcInterval"/],
    ['failover_mode', /use "failoverMode"/],
    ['session_pgsql.disable', /do not install it/],
    ['session_pgsql.vacuum_interval', /autovacuum/],
    ['session_pgsql.sem_file_name', /coordinated in the table/],
    ['session_pgsql.serializable', /merged/],
    ['session_pgsql.use_app_vars', /removed/],
  ];
  for (const [name, hint] of cases) {
    it(`${name}: names ours instead`, () => {
      const error = refusal({ db, [name]: 1 });
      assert.equal(error.code, 'SPG_INVALID_OPTION');
      assert.match(
        error.message,
        new RegExp(
          `^option "${name.replaceAll('.', '\\.')}" is session_pgsql's php\\.ini directive: `,
        ),
      );
      assert.match(error.message, hint);
    });
  }

  it("PHP's session.gc_maxlifetime and session.name: ttl and name", () => {
    assert.match(refusal({ db, 'session.gc_maxlifetime': 1440 }).message, /use "ttl"/);
    assert.match(refusal({ db, gc_maxlifetime: 1440 }).message, /use "ttl"/);
    assert.match(refusal({ db, 'session.name': 'PHPSESSID' }).message, /use "name"/);
  });
});

describe('other unknown names', () => {
  it('another spelling of an option: "did you mean"', () => {
    assert.equal(
      refusal({ db, failovermode: true }).message,
      'option "failovermode" is not an option: did you mean "failoverMode"?',
    );
    assert.match(refusal({ db, cache_max_entries: 5 }).message, /did you mean "cacheMaxEntries"\?/);
  });

  it('anything else: unknown option, as before', () => {
    assert.equal(
      refusal({ db, sessionTTL: 5 }).message,
      'option "sessionTTL" must be one of the documented options (unknown option), got 5',
    );
  });
});

describe('placement', () => {
  it("'session_pgsql' needs hashIds: false (session_pgsql stored and placed ids in clear)", () => {
    const error = refusal({ db: [db, db], placement: 'session_pgsql' });
    assert.equal(error.code, 'SPG_INVALID_OPTION');
    assert.match(error.message, /^option "placement" must be "rendezvous" while hashIds is on/);
    assert.match(error.message, /set hashIds: false/);
    const store = new SessionPgsql({ db: [db, db], placement: 'session_pgsql', hashIds: false });
    assert.equal(store.options.placement, 'session_pgsql');
    void store.close();
  });

  it('is rendezvous by default, and nothing else is accepted', () => {
    const store = new SessionPgsql({ db });
    assert.equal(store.options.placement, 'rendezvous');
    void store.close();
    assert.match(
      refusal({ db, placement: 'modulo' }).message,
      /^option "placement" must be "rendezvous" or "session_pgsql", got "modulo"$/,
    );
  });
});
