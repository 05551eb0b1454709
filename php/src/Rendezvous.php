<?php

declare(strict_types=1);

namespace SessionPgsql;

/**
 * Rendezvous (highest random weight) hashing, exactly as the Node store computes it
 * (src/routing/rendezvous.ts): each key ranks every server by a score of (key, server) and
 * goes to the highest, so PHP finds every session where Node placed it.
 *
 * @internal
 */
final class Rendezvous
{
    /** @var list<int> */
    private readonly array $seeds;

    /** @param list<string> $ids the servers' names: their connection strings, password hidden */
    public function __construct(array $ids)
    {
        $this->seeds = array_map(fn (string $id) => self::mix(self::fnv1a($id)), $ids);
    }

    /** @return list<int> server positions for `$key`, best first */
    public function rank(string $key): array
    {
        $keyHash = self::fnv1a($key);
        $scores = [];
        foreach ($this->seeds as $index => $seed) {
            $scores[] = ['index' => $index, 'score' => self::mix($keyHash ^ $seed)];
        }
        usort($scores, fn (array $a, array $b) => $b['score'] <=> $a['score'] ?: $a['index'] <=> $b['index']);
        return array_map(fn (array $s) => $s['index'], $scores);
    }

    /** FNV-1a over the string's UTF-16 code units, 32 bits. */
    public static function fnv1a(string $text): int
    {
        $hash = 0x811C9DC5;
        foreach (Utf8::utf16Units($text) as $unit) {
            $hash ^= $unit;
            $hash = Int32::imul($hash, 0x01000193);
        }
        return $hash;
    }

    /** MurmurHash3's finalizer. */
    public static function mix(int $value): int
    {
        $h = $value & 0xFFFFFFFF;
        $h ^= $h >> 16;
        $h = Int32::imul($h, 0x85EBCA6B);
        $h ^= $h >> 13;
        $h = Int32::imul($h, 0xC2B2AE35);
        $h ^= $h >> 16;
        return $h;
    }
}
