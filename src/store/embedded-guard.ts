import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ErrorCodes, SessionPgsqlError } from '../errors.js';
import type { DbOption } from '../options/db-option.js';

/**
 * Keeps operator calls off an embedded database that does not exist. A cron job running
 * `gc()` with a missing DATABASE_URL would otherwise create an empty embedded database in
 * the current folder, collect nothing there and report success. Session traffic (reads,
 * writes) still creates the database, as it always did; operator calls (gc, stats,
 * revocations, inspect, clear, length) need one that exists: its folder holds PG_VERSION,
 * or this store's session traffic has opened it.
 */
export class EmbeddedGuard {
  /** The embedded database's folder; `undefined` with a `db` option. */
  readonly #dir: string | undefined;
  #found = false;
  #warned = false;

  constructor(db: DbOption) {
    this.#dir = db.kind === 'embedded' ? db.dir : undefined;
  }

  /** Every call of the store's: warns once that the embedded database is for development. */
  accessed(): void {
    if (this.#dir === undefined || this.#warned) return;
    this.#warned = true;
    process.emitWarning(
      `no "db" option: sessions are kept in the embedded PostgreSQL in ${this.#dir}. This is for development only.`,
      { code: 'SPG_EMBEDDED_DATABASE' },
    );
  }

  /** Session traffic: the database may be created, and operator calls may use it after. */
  trafficStarted(): void {
    this.#found = true;
  }

  /** Refuses an operator call on an embedded database that does not exist (SPG_EMBEDDED_NOT_FOUND). */
  check(call: string): void {
    if (this.#dir === undefined || this.#found) return;
    if (existsSync(join(this.#dir, 'PG_VERSION'))) {
      this.#found = true;
      return;
    }
    throw new SessionPgsqlError(
      ErrorCodes.EMBEDDED_NOT_FOUND,
      `${call}() was called on a store without a "db" option, and ${resolve(this.#dir)} holds no embedded database (no PG_VERSION): nothing was created there. Pass the "db" option (is DATABASE_URL set?), or "embeddedDir" naming the folder of an existing embedded database`,
    );
  }
}
