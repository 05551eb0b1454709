/**
 * express-session and @fastify/session store the session's cookie beside the app's fields:
 * its `originalMaxAge`, never its expiry (the row holds that), nor what the store carries.
 */
import assert from 'node:assert/strict';

export function fieldsBesideCookie(
  stored: Record<string, unknown>,
  lifetime: number,
): Record<string, unknown> {
  const { cookie: storedCookie, ...fields } = stored;
  const cookie = storedCookie as Record<string, unknown>;
  assert.equal(cookie.originalMaxAge, lifetime * 1000);
  assert.equal(cookie.expires, undefined, 'the row holds the expiry');
  assert.equal(cookie.originalExpires, undefined);
  assert.equal(fields.__sessionPgsql, undefined, 'what the store carries is never stored');
  return fields;
}
