/** The sessions the benchmark stores: ids, data and signed cookies, the same for every store. */
import { createHmac } from 'node:crypto';

/** The application part of a session (express-session adds `cookie`). */
export interface BenchSession {
  cookie: BenchCookie;
  user: { id: number; name: string; roles: string[] };
  views: number;
  locale: string;
  csrf: string;
}

export interface BenchCookie {
  originalMaxAge: number | null;
  expires?: string | Date | null;
  httpOnly: boolean;
  path: string;
  secure?: boolean;
}

export const secret = 'session-pgsql benchmark secret';
export const cookieName = 'connect.sid';

/** A 32-character id like express-session's, different per purpose (`st`, `ht`, `gc`, `mem`). */
export function sessionId(prefix: string, index: number): string {
  return `${prefix}_${String(index).padStart(12, '0')}_benchsession`.padEnd(32, 'x').slice(0, 32);
}

/** A session of about 230 bytes of JSON, as a small app keeps (user, counters, CSRF token). */
export function sessionData(index: number, lifetimeMillis: number): BenchSession {
  return {
    cookie: {
      originalMaxAge: lifetimeMillis,
      expires: new Date(Date.now() + lifetimeMillis).toISOString(),
      httpOnly: true,
      path: '/',
    },
    user: { id: index, name: `user-${index}`, roles: ['reader', 'writer'] },
    views: 0,
    locale: 'en-GB',
    csrf: createHmac('sha256', 'csrf').update(String(index)).digest('base64url'),
  };
}

/** The Cookie header express-session accepts for `id`: `s:<id>.<HMAC-SHA256>`, as cookie-signature signs. */
export function signedCookie(id: string): string {
  const signature = createHmac('sha256', secret).update(id).digest('base64').replace(/=+$/, '');
  return `${cookieName}=${encodeURIComponent(`s:${id}.${signature}`)}`;
}
