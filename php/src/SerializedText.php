<?php

declare(strict_types=1);

namespace SessionPgsql;

/**
 * Checks session data against the grammar of PHP's unserializer before it is handed to
 * session_decode(): PHP answers a decoding failure by destroying the active session (and
 * closing the handler), which in the middle of a write would lose it. Only the formats of
 * PHP's own serialize handlers (php, php_binary, php_serialize) are read; data holding
 * references (`r:`, `R:`) is not decoded either, since its values cannot be merged one by one.
 *
 * @internal
 */
final class SerializedText
{
    /** PHP's unserialize_max_depth default. */
    private const MAX_DEPTH = 4096;
    /**
     * The high bit of a php_binary name length: PHP 5 read it as a variable without a value;
     * PHP 7 and 8 mask it off and read a value after the name all the same.
     */
    private const BINARY_UNDEFINED = 128;

    /**
     * True when session_decode() can read `$text` (and it holds no references); false when
     * it is not data of that serialize handler; null when this cannot be told (another
     * serialize handler, or references).
     */
    public static function decodable(string $text, string $handler): ?bool
    {
        try {
            return match ($handler) {
                'php' => self::php($text),
                'php_binary' => self::binary($text),
                'php_serialize' => $text === '' || self::end($text, 0, 0) === strlen($text),
                default => null,
            };
        } catch (\DomainException) {
            return null; // references
        }
    }

    private static function php(string $text): bool
    {
        $at = 0;
        $length = strlen($text);
        while ($at < $length) {
            $bar = strpos($text, '|', $at);
            if ($bar === false) {
                return false;
            }
            $end = self::end($text, $bar + 1, 0);
            if ($end === null) {
                return false;
            }
            $at = $end;
        }
        return true;
    }

    private static function binary(string $text): bool
    {
        $at = 0;
        $length = strlen($text);
        while ($at < $length) {
            $byte = ord($text[$at]);
            $nameLength = $byte & ~self::BINARY_UNDEFINED;
            if ($at + $nameLength >= $length) {
                return false; // as PHP: a name must be followed by something
            }
            $at += $nameLength + 1;
            $end = self::end($text, $at, 0);
            if ($end === null) {
                return false;
            }
            $at = $end;
        }
        return true;
    }

    /** Where the serialized value starting at `$at` ends, or null when it is not one. */
    private static function end(string $s, int $at, int $depth): ?int
    {
        if ($depth > self::MAX_DEPTH || !isset($s[$at])) {
            return null;
        }
        $iv = '[+-]?[0-9]+';
        $nv = '[+-]?(?:[0-9]*\.[0-9]+|[0-9]+\.[0-9]*)';
        switch ($s[$at]) {
            case 'N':
                return self::literal($s, $at, '/\GN;/');
            case 'b':
                return self::literal($s, $at, '/\Gb:[01];/');
            case 'i':
                return self::literal($s, $at, "/\\Gi:{$iv};/");
            case 'd':
                return self::literal($s, $at, "/\\Gd:(?:(?:{$iv}|{$nv})(?:[eE]{$iv})?|NAN|-?INF);/");
            case 'r':
            case 'R':
                throw new \DomainException('a reference');
            case 's':
                if (preg_match('/\Gs:([0-9]+):"/', $s, $m, 0, $at) !== 1) {
                    return null;
                }
                $start = $at + strlen($m[0]);
                $close = $start + (int) $m[1];
                return substr($s, $close, 2) === '";' ? $close + 2 : null;
            case 'E':
                if (preg_match('/\GE:([0-9]+):"/', $s, $m, 0, $at) !== 1) {
                    return null;
                }
                $start = $at + strlen($m[0]);
                $close = $start + (int) $m[1];
                $name = explode(':', substr($s, $start, (int) $m[1]), 2);
                // PHP refuses an enum case that does not exist (an unknown class is only incomplete)
                return substr($s, $close, 2) === '";' && count($name) === 2 && self::enumCase($name[0], $name[1])
                    ? $close + 2
                    : null;
            case 'a':
                if (preg_match('/\Ga:([0-9]+):\{/', $s, $m, 0, $at) !== 1) {
                    return null;
                }
                return self::members($s, $at + strlen($m[0]), (int) $m[1], $depth);
            case 'O':
            case 'C':
                if (preg_match('/\G[OC]:([0-9]+):"/', $s, $m, 0, $at) !== 1) {
                    return null;
                }
                $start = $at + strlen($m[0]);
                $class = substr($s, $start, (int) $m[1]);
                if (strlen($class) !== (int) $m[1] || preg_match('/^[A-Za-z0-9_\x80-\xff\\\\]+$/', $class) !== 1) {
                    return null;
                }
                $after = $start + (int) $m[1];
                if (preg_match('/\G":([0-9]+):\{/', $s, $n, 0, $after) !== 1) {
                    return null;
                }
                $body = $after + strlen($n[0]);
                if ($s[$at] === 'C') {
                    $close = $body + (int) $n[1];
                    return ($s[$close] ?? '') === '}' ? $close + 1 : null;
                }
                return self::members($s, $body, (int) $n[1], $depth);
            default:
                return null;
        }
    }

    /** `$count` key and value pairs from `$at` (keys are integers or strings), then `}`. */
    private static function members(string $s, int $at, int $count, int $depth): ?int
    {
        for ($i = 0; $i < $count; $i++) {
            if (!isset($s[$at]) || ($s[$at] !== 'i' && $s[$at] !== 's')) {
                return null;
            }
            $at = self::end($s, $at, $depth + 1);
            if ($at === null) {
                return null;
            }
            $at = self::end($s, $at, $depth + 1);
            if ($at === null) {
                return null;
            }
        }
        return ($s[$at] ?? '') === '}' ? $at + 1 : null;
    }

    private static function enumCase(string $class, string $case): bool
    {
        if (preg_match('/^[A-Za-z0-9_\x80-\xff\\\\]+$/', $class) !== 1 || !enum_exists($class)) {
            return false;
        }
        $constant = "{$class}::{$case}";
        return defined($constant) && constant($constant) instanceof \UnitEnum;
    }

    private static function literal(string $s, int $at, string $pattern): ?int
    {
        return preg_match($pattern, $s, $m, 0, $at) === 1 ? $at + strlen($m[0]) : null;
    }
}
