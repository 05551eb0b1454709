/**
 * A process serving "requests" on a store over several servers with a gcInterval until it
 * reads "stop" on stdin, printing each collection it makes as a JSON line.
 * Usage: gc-worker.ts <JSON array of db urls> <table> <gcInterval> <gcCheckMillis>
 */
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { SessionPgsql } from '../../../src/index.js';

const [dbs, table, interval, checkMillis] = process.argv.slice(2);
if (!dbs || !table || !interval || !checkMillis) {
  throw new Error('usage: gc-worker.ts <dbs> <table> <gcInterval> <gcCheckMillis>');
}
const warnings: string[] = [];
process.on('warning', (warning) => warnings.push(`${warning.name}: ${warning.message}`));

const store = new SessionPgsql({
  db: JSON.parse(dbs) as string[],
  table,
  gcInterval: Number(interval),
  gcCheckMillis: Number(checkMillis),
});
store.on('gc', (result) =>
  console.log(JSON.stringify({ event: 'gc', server: result.server, deleted: result.deleted })),
);

let go = false;
let stop = false;
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'go') go = true;
  if (line === 'stop') stop = true;
});
console.log('ready');
while (!go) await sleep(20);
while (!stop) {
  await store.read(randomBytes(24).toString('base64url')); // a request
  await sleep(100);
}
await store.close();
console.log(JSON.stringify({ event: 'done', warnings }));
process.stdin.destroy();
