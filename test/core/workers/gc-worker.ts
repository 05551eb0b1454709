/**
 * A process serving "requests" on a store with a gcInterval for a while, printing each
 * collection it makes as a JSON line; then it closes the store and stays alive a little
 * longer to show that close() stopped the collector.
 * Usage: gc-worker.ts <db url> <table> <seconds> <gcInterval> <gcCheckMillis>
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { SessionPgsql } from '../../../src/index.js';

const [db, table, seconds, interval, checkMillis] = process.argv.slice(2);
if (!db || !table || !seconds || !interval || !checkMillis) {
  throw new Error('usage: gc-worker.ts <db> <table> <seconds> <gcInterval> <gcCheckMillis>');
}
const warnings: string[] = [];
process.on('warning', (warning) => warnings.push(`${warning.name}: ${warning.message}`));

const store = new SessionPgsql({
  db,
  table,
  gcInterval: Number(interval),
  gcCheckMillis: Number(checkMillis),
});
let closed = false;
let afterClose = 0;
store.on('gc', (result) => {
  if (closed) afterClose += 1;
  else console.log(JSON.stringify({ event: 'gc', deleted: result.deleted }));
});

const lines = createInterface({ input: process.stdin });
console.log('ready');
await once(lines, 'line');
lines.close();

const until = performance.now() + Number(seconds) * 1000;
while (performance.now() < until) {
  await store.read(randomBytes(24).toString('base64url')); // a request
  await sleep(100);
}
const claims = (await store.status()).servers[0]?.statements.gcClaim ?? 0;
await store.close();
closed = true;
// a ref'd wait, ten periods of the collector: it would have fired meanwhile
await sleep(10 * Number(checkMillis));
console.log(JSON.stringify({ event: 'done', claims, afterClose, warnings }));
