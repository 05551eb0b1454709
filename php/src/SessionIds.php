<?php

declare(strict_types=1);

namespace SessionPgsql;

/**
 * Session ids and the keys stored in `sess_id`, as the Node store makes them
 * (src/store/session-ids.ts): an id that does not match `idPattern` never reaches SQL;
 * with `hashIds` the key is the SHA-256 of the id in base64url, without padding.
 *
 * @internal
 */
final class SessionIds
{
    public function __construct(private readonly string $pattern, private readonly bool $hash)
    {
    }

    /** The stored key of a valid id; null for anything else. */
    public function key(mixed $id): ?string
    {
        if (!is_string($id) || strlen($id) > 1024 || preg_match($this->pattern, $id) !== 1) {
            return null;
        }
        return $this->hash ? self::digest($id) : $id;
    }

    public static function digest(string $id): string
    {
        return rtrim(strtr(base64_encode(hash('sha256', $id, true)), '+/', '-_'), '=');
    }

    /** A new id like express-session's (uid-safe, 24 random bytes): 32 characters of base64url. */
    public static function create(): string
    {
        return rtrim(strtr(base64_encode(random_bytes(24)), '+/', '-_'), '=');
    }
}
