<?php

declare(strict_types=1);

namespace SessionPgsql;

/**
 * Reads a session from its target and from the servers that may hold a copy written while
 * the target (or a server before it) was down, and moves such a copy to the target, as the
 * Node store does (src/routing/move-home.ts): the copy elsewhere always wins, since it was
 * written while the target could not be reached; a tombstone there means the session was
 * destroyed. Every move is a compare-and-set: a change made meanwhile is never overwritten.
 *
 * @internal
 */
final class MoveHome
{
    private const MAX_MOVE_ATTEMPTS = 5;

    /** @return array<string, mixed>|null the row now on the target, if any */
    public static function move(string $key, Route $route): ?array
    {
        for ($attempt = 1; ; $attempt++) {
            [$changed, $row] = self::moveOnce($key, $route);
            if (!$changed) {
                return $row;
            }
            if ($attempt >= self::MAX_MOVE_ATTEMPTS) {
                throw new SessionPgsqlException(
                    SessionPgsqlException::DB_QUERY_FAILED,
                    'a session kept changing on its server while a copy was moved there',
                );
            }
        }
    }

    /** @param array<string, mixed> $row */
    public static function isTombstone(array $row): bool
    {
        return ($row['sess_name'] ?? null) === Statements::TOMBSTONE_NAME;
    }

    /** @return array{0: bool, 1: ?array<string, mixed>} [changed meanwhile, the row now on the target] */
    private static function moveOnce(string $key, Route $route): array
    {
        $servers = [$route->target, ...$route->others];
        $reads = [];
        foreach ($servers as $index => $server) {
            try {
                $reads[$index] = $server->run('read', ['key' => $key], 'read a session')['rows'][0] ?? null;
            } catch (SessionPgsqlException $e) {
                if ($index === 0) {
                    throw $e;
                }
                $reads[$index] = null;
            }
        }
        $current = $reads[0];
        $best = null;
        foreach ($reads as $index => $row) {
            if ($index === 0 || $row === null) {
                continue;
            }
            if ($best === null || ($row['sess_modified'] ?? 0) >= ($best['sess_modified'] ?? 0)) {
                $best = $row;
            }
        }
        if ($best === null) {
            $gone = $current !== null && self::isTombstone($current) && !$route->failedOver;
            return [false, $gone ? null : $current];
        }
        $destroyed = self::isTombstone($best) && !$route->failedOver;
        if ($destroyed) {
            if ($current !== null) {
                $removed = $route->target->run('removeCopy', ['key' => $key, ...self::versionOf($current)], 'destroy a session moved home');
                if ($removed['affected'] === 0) {
                    return [true, null];
                }
            }
        } else {
            $restored = $route->target->run(
                'restore',
                [...self::rowValues($key, $best), 'existed' => $current !== null, ...self::versionOf($current)],
                'move a session home',
            );
            if ($restored['affected'] === 0) {
                return [true, null];
            }
        }
        // The copies elsewhere are stale now: remove them unless they changed meanwhile.
        foreach ($reads as $index => $copy) {
            if ($index === 0 || $copy === null) {
                continue;
            }
            try {
                $servers[$index]->run('removeCopy', ['key' => $key, ...self::versionOf($copy)], 'remove a moved copy');
            } catch (SessionPgsqlException) {
                // moved again on a later read
            }
        }
        return [false, $destroyed ? null : $best];
    }

    /**
     * @param array<string, mixed>|null $row
     * @return array<string, mixed>
     */
    private static function versionOf(?array $row): array
    {
        return [
            'seenModified' => $row['sess_modified'] ?? null,
            'seenName' => $row['sess_name'] ?? null,
            'seenCounter' => $row['sess_counter'] ?? null,
            'seenExpire' => $row['sess_expire'] ?? null,
            'seenDataMd5' => ($row['sess_data'] ?? null) === null ? null : $row['sess_md5'],
        ];
    }

    /**
     * @param array<string, mixed> $row
     * @return array<string, mixed>
     */
    private static function rowValues(string $key, array $row): array
    {
        return [
            'key' => $key,
            'data' => $row['sess_data'] ?? null,
            'name' => $row['sess_name'] ?? null,
            'created' => $row['sess_created'] ?? null,
            'modified' => $row['sess_modified'] ?? null,
            'expire' => $row['sess_expire'] ?? null,
            'addrCreated' => $row['sess_addr_created'] ?? null,
            'addrModified' => $row['sess_addr_modified'] ?? null,
            'counter' => $row['sess_counter'] ?? null,
            'error' => $row['sess_error'] ?? null,
            'warning' => $row['sess_warning'] ?? null,
            'notice' => $row['sess_notice'] ?? null,
            'message' => $row['sess_err_message'] ?? null,
            'custom' => $row['sess_custom'] ?? null,
        ];
    }
}
