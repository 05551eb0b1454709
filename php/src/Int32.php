<?php

declare(strict_types=1);

namespace SessionPgsql;

/**
 * JavaScript's 32-bit integer arithmetic (`Math.imul`, `| 0`, `>>> 0`) on PHP's 64-bit
 * integers, for the hashes the Node store computes.
 *
 * @internal
 */
final class Int32
{
    /** `Math.imul(a, b) >>> 0`: the low 32 bits of the product, unsigned. */
    public static function imul(int $a, int $b): int
    {
        $a &= 0xFFFFFFFF;
        $b &= 0xFFFFFFFF;
        // Split so that no product exceeds 2^48: PHP turns an overflowing int into a float.
        $low = $a * ($b & 0xFFFF);
        $high = (($a * ($b >> 16)) & 0xFFFF) << 16;
        return ($low + $high) & 0xFFFFFFFF;
    }

    /** `x | 0`: the low 32 bits as a signed integer. */
    public static function signed(int $x): int
    {
        $x &= 0xFFFFFFFF;
        return $x >= 0x80000000 ? $x - 0x100000000 : $x;
    }
}
