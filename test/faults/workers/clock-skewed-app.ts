/**
 * An app server whose clock is wrong (run under libfaketime): it writes or reads one
 * session and prints, as one JSON line, its own clock and what it saw.
 * Usage: clock-skewed-app.ts <db url> <table> write|read <session id>
 */
import { SessionPgsql } from '../../../src/index.js';

const [db, table, action, id] = process.argv.slice(2);
if (!db || !table || !id || (action !== 'write' && action !== 'read'))
  throw new Error('usage: clock-skewed-app.ts <db> <table> write|read <id>');
const store = new SessionPgsql<{ by: string }>({ db, table, gcInterval: 0 });
if (action === 'write') await store.write(id, { by: 'skewed' }, { lifetimeSeconds: 60 });
const loaded = await store.read(id);
console.log(
  JSON.stringify({
    clock: Date.now(),
    data: loaded?.data ?? null,
    expires: loaded?.state.info().expires?.getTime() ?? null,
  }),
);
await store.close();
