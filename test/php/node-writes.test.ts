/**
 * Sessions Node writes, in each of PHP's formats, read in real PHP 8 (session_decode()
 * with the matching session.serialize_handler, unserialize() for the value format) as
 * the same PHP values: types, classes, enums, references, key order.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PhpWriter } from '../../src/serializers/php-writer.js';
import { type DecodeRequest, decodeInPhp, HANDLERS, nodeCases, serializers } from './fixtures.js';

function assertRead(
  requests: readonly DecodeRequest[],
  results: Awaited<ReturnType<typeof decodeInPhp>>,
) {
  assert.equal(results.length, requests.length);
  results.forEach((result, i) => {
    const { handler, name } = requests[i] ?? {};
    assert.ok(
      result.read && result.same,
      `${handler} ${name}: ${result.error ?? `PHP read\n${result.decoded}\nexpected\n${result.expected}`}`,
    );
  });
}

describe('Node writes, PHP reads the same values', () => {
  for (const handler of HANDLERS) {
    it(`${handler}: strings, ints, floats, booleans, null, arrays, objects, enums, references`, async () => {
      const cases = nodeCases();
      const requests = Object.entries(cases).map(([name, session]) => ({
        handler,
        text: serializers[handler].stringify(session),
        set: 'node' as const,
        name,
      }));
      assert.ok(requests.length >= 9);
      assertRead(requests, await decodeInPhp(requests));
    });
  }

  it('serialize(): each session as a value, read by unserialize()', async () => {
    const requests = Object.entries(nodeCases()).map(([name, session]) => ({
      handler: 'serialize' as const,
      text: new PhpWriter().value(session, {}, '', undefined, false) ?? '',
      set: 'node' as const,
      name,
    }));
    assertRead(requests, await decodeInPhp(requests));
  });

  it('what Node writes for new values, as PHP writes them', () => {
    const text = serializers.php_serialize.stringify(nodeCases().floats ?? {});
    assert.equal(
      text,
      'a:10:{s:5:"tenth";d:0.1;s:3:"big";d:1.0E+100;s:12:"negativeZero";d:-0;s:3:"inf";d:INF;' +
        's:11:"negativeInf";d:-INF;s:3:"nan";d:NAN;s:4:"tiny";d:5.0E-324;s:5:"third";' +
        'd:0.3333333333333333;s:4:"half";d:1.5;s:10:"beyondSafe";d:1.152921504606847E+18;}',
    );
    assert.equal(
      serializers.php.stringify({ n: 1, big: 2n ** 62n, when: new Date(0), gone: undefined }),
      'n|i:1;big|i:4611686018427387904;when|s:24:"1970-01-01T00:00:00.000Z";',
    );
  });
});
