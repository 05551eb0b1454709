<?php

declare(strict_types=1);

namespace SessionPgsql;

/**
 * Session data as PHP encodes it (`session.serialize_handler`: php, php_binary,
 * php_serialize...), with the store's rules: the size limit, text PostgreSQL can hold, and
 * the three-way merge of two requests that wrote one session at once (src/store/merge.ts).
 * Decoding and encoding go through PHP's own session_decode() and session_encode(), so that
 * every serialize handler merges alike.
 *
 * @internal
 */
final class SessionCodec
{
    public function __construct(private readonly int $maxBytes)
    {
    }

    /**
     * Refuses a session whose row would be larger than `maxSessionBytes`: its data and the
     * text of its metadata (custom field, last message) together.
     */
    public function checkSize(string $text, ?string ...$metadata): void
    {
        $bytes = strlen($text);
        foreach ($metadata as $value) {
            $bytes += strlen($value ?? '');
        }
        if ($bytes > $this->maxBytes) {
            throw new SessionPgsqlException(
                SessionPgsqlException::SESSION_TOO_LARGE,
                "the session is {$bytes} bytes, over maxSessionBytes ({$this->maxBytes})",
            );
        }
    }

    /** `sess_data` is text: no NUL byte, valid UTF-8 (PostgreSQL would refuse the write). */
    public function checkText(string $text): void
    {
        if (str_contains($text, "\0") || !Utf8::isValid($text)) {
            throw new SessionPgsqlException(
                SessionPgsqlException::SERIALIZE_FAILED,
                'the encoded session holds a NUL byte or bytes that are not UTF-8, which PostgreSQL text '
                    . 'cannot store (objects with private or protected properties serialize with NUL bytes)',
            );
        }
    }

    /**
     * The data another request wrote meanwhile (`$theirs`) with this request's changes: the
     * three-way merge of `merge()`, decoded and encoded by PHP's own session_decode() and
     * session_encode(). Data that cannot be merged one variable at a time (it holds PHP
     * references, another serialize handler wrote it, or no session is active) is not: this
     * request's data wins.
     * Data that is not of this serialize handler at all throws SPG_PARSE_FAILED.
     */
    public function mergeEncoded(string $base, string $ours, string $theirs): string
    {
        $handler = (string) ini_get('session.serialize_handler');
        $checks = array_map(fn (string $t) => SerializedText::decodable($t, $handler), [$base, $ours, $theirs]);
        if ($checks[2] === false) {
            throw new SessionPgsqlException(
                SessionPgsqlException::PARSE_FAILED,
                "another request stored this session meanwhile in a format that is not session.serialize_handler \"{$handler}\"; nothing was written",
            );
        }
        if (in_array(null, $checks, true) || in_array(false, $checks, true) || session_status() !== PHP_SESSION_ACTIVE) {
            return $ours; // session_decode() needs the active session
        }
        return $this->encode(self::merge($this->decode($base), $this->decode($ours), $this->decode($theirs)));
    }

    /**
     * PHP's decoding, of data SerializedText checked (session_decode() destroys the active
     * session when it fails).
     *
     * @return array<string, mixed>
     */
    private function decode(string $text): array
    {
        if ($text === '') {
            return [];
        }
        $saved = $_SESSION;
        $_SESSION = [];
        try {
            $ok = session_decode($text);
            $decoded = $_SESSION;
        } finally {
            $_SESSION = $saved;
        }
        if ($ok !== true) {
            throw new SessionPgsqlException(SessionPgsqlException::PARSE_FAILED, 'session_decode() could not read a stored session');
        }
        return $decoded;
    }

    /** @param array<string, mixed> $data */
    private function encode(array $data): string
    {
        $saved = $_SESSION;
        $_SESSION = $data;
        try {
            $text = session_encode();
        } finally {
            $_SESSION = $saved;
        }
        if (!is_string($text)) {
            throw new SessionPgsqlException(SessionPgsqlException::SERIALIZE_FAILED, 'session_encode() failed');
        }
        return $text;
    }

    /**
     * Three-way merge of a session written by two requests at once, key by key: the keys
     * this request changed (from `$base`, what it read) win; every other key keeps the
     * value the other request stored (`$theirs`).
     *
     * @param array<string, mixed> $base
     * @param array<string, mixed> $ours
     * @param array<string, mixed> $theirs
     * @return array<string, mixed>
     */
    public static function merge(array $base, array $ours, array $theirs): array
    {
        $merged = $theirs;
        foreach (array_unique([...array_keys($base), ...array_keys($ours)]) as $key) {
            $inBase = array_key_exists($key, $base);
            $inOurs = array_key_exists($key, $ours);
            if ($inBase === $inOurs && (!$inBase || serialize($base[$key]) === serialize($ours[$key]))) {
                continue;
            }
            if ($inOurs) {
                $merged[$key] = $ours[$key];
            } else {
                unset($merged[$key]);
            }
        }
        return $merged;
    }
}
