/** How PHP's serialize() writes numbers, and PHP's rules for integer keys. */

export const PHP_INT_MAX = 2n ** 63n - 1n;
export const PHP_INT_MIN = -(2n ** 63n);

/**
 * A float as PHP 8 writes it (serialize_precision -1): the shortest digits that read
 * back as the same double, in fixed notation for exponents from -5 to 16
 * (`0.0001`, `1.5`, `1`, `10000000000000000`), in PHP's exponent form otherwise
 * (`1.0E-5`, `1.0E+17`, `1.5E+300`); `INF`, `-INF`, `NAN`, `-0`.
 */
export function phpFloatText(value: number): string {
  if (Number.isNaN(value)) return 'NAN';
  if (value === Number.POSITIVE_INFINITY) return 'INF';
  if (value === Number.NEGATIVE_INFINITY) return '-INF';
  if (value === 0) return Object.is(value, -0) ? '-0' : '0';
  const sign = value < 0 ? '-' : '';
  // toExponential() without digits gives the shortest round-trip digits, as PHP's zend_gcvt mode 0.
  const [mantissa = '', exponent = ''] = Math.abs(value).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const point = Number(exponent) + 1; // digits before the decimal point
  if (point < -3 || point > 17) {
    const power = point - 1;
    return `${sign}${digits[0]}.${digits.slice(1) || '0'}E${power < 0 ? '-' : '+'}${Math.abs(power)}`;
  }
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (digits.length <= point) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/**
 * How Node writes a number: a safe integer as a PHP int (`i:5;`), any other number
 * (fractions, -0, integers past 2^53 that a double cannot count exactly, INF, NAN) as a
 * PHP float; a bigint as a PHP int, which must fit PHP's 64 bits.
 */
export function phpNumberText(value: number | bigint): string {
  if (typeof value === 'bigint') {
    if (value > PHP_INT_MAX || value < PHP_INT_MIN) {
      throw new RangeError(`the bigint ${value} does not fit a PHP int (64 bits)`);
    }
    return `i:${value};`;
  }
  if (Number.isSafeInteger(value) && !Object.is(value, -0)) return `i:${value};`;
  return `d:${phpFloatText(value)};`;
}

const INTEGER_KEY = /^(?:0|-?[1-9][0-9]{0,18})$/;

/**
 * Whether PHP stores this array key as an integer: a decimal integer in canonical form
 * within PHP's int range (`"5"`, `"-3"`; not `"05"`, `"-0"`, `"+1"`).
 */
export function isIntegerKey(key: string): boolean {
  if (!INTEGER_KEY.test(key)) return false;
  if (key.length < 19) return true;
  const n = BigInt(key);
  return n <= PHP_INT_MAX && n >= PHP_INT_MIN;
}

/** The float of `d:`'s text (PHP writes NAN, INF, -INF as such). */
export function floatOf(text: string): number {
  if (text === 'NAN') return Number.NaN;
  if (text === 'INF') return Number.POSITIVE_INFINITY;
  if (text === '-INF') return Number.NEGATIVE_INFINITY;
  return Number(text);
}

/**
 * A quick yes for most floats: a fraction from 0.0001 up to 10^17 is written in fixed
 * notation with the shortest digits by PHP and by JavaScript alike, so JavaScript's text
 * of it is PHP's. Any other float is compared with PHP's form in full.
 */
export function isFixedFloat(value: number, text: string): boolean {
  const magnitude = Math.abs(value);
  return (
    magnitude >= 1e-4 && magnitude < 1e17 && !Number.isInteger(value) && text === String(value)
  );
}
