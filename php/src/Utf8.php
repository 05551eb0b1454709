<?php

declare(strict_types=1);

namespace SessionPgsql;

/**
 * UTF-8 text as JavaScript sees it, so that hashes computed here match the Node store's:
 * JavaScript iterates strings by code point (`for...of`) or by UTF-16 code unit (`charCodeAt`).
 *
 * @internal
 */
final class Utf8
{
    public static function isValid(string $text): bool
    {
        return preg_match('//u', $text) === 1;
    }

    /** @return list<string> the characters (code points), each as its UTF-8 bytes */
    public static function characters(string $text): array
    {
        $characters = preg_split('//u', $text, -1, PREG_SPLIT_NO_EMPTY);
        if ($characters === false) {
            throw new SessionPgsqlException(SessionPgsqlException::INVALID_OPTION, 'text must be valid UTF-8');
        }
        return $characters;
    }

    /** @return list<int> */
    public static function codePoints(string $text): array
    {
        return array_map(self::codePoint(...), self::characters($text));
    }

    /** @return list<int> the UTF-16 code units, as JavaScript's charCodeAt gives them */
    public static function utf16Units(string $text): array
    {
        $units = [];
        foreach (self::codePoints($text) as $point) {
            if ($point < 0x10000) {
                $units[] = $point;
            } else {
                $point -= 0x10000;
                $units[] = 0xD800 | ($point >> 10);
                $units[] = 0xDC00 | ($point & 0x3FF);
            }
        }
        return $units;
    }

    private static function codePoint(string $character): int
    {
        $bytes = array_values(unpack('C*', $character) ?: []);
        $first = $bytes[0] ?? 0;
        return match (count($bytes)) {
            1 => $first,
            2 => (($first & 0x1F) << 6) | ($bytes[1] & 0x3F),
            3 => (($first & 0x0F) << 12) | (($bytes[1] & 0x3F) << 6) | ($bytes[2] & 0x3F),
            default => (($first & 0x07) << 18) | (($bytes[1] & 0x3F) << 12) | (($bytes[2] & 0x3F) << 6) | ($bytes[3] & 0x3F),
        };
    }
}
