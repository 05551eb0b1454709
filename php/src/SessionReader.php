<?php

declare(strict_types=1);

namespace SessionPgsql;

/**
 * Reads sessions from their server (src/store/session-reader.ts).
 *
 * @internal
 */
final class SessionReader
{
    public function __construct(private readonly SessionRouting $routing, private readonly bool $keepExpired)
    {
    }

    /**
     * @return array{data: ?string, state: SessionState}|null null for a missing or expired
     *     session (or, with keepExpired, data null and the expired session's metadata)
     */
    public function read(string $id, string $key): ?array
    {
        return $this->routing->run($key, function (Route $route) use ($id, $key): ?array {
            $row = $route->others !== []
                ? MoveHome::move($key, $route)
                : ($route->target->run('read', ['key' => $key], 'read a session')['rows'][0] ?? null);
            return $this->loaded($id, $route->target, self::foundOrUnreachable($row, $route));
        });
    }

    /** @param array<string, mixed>|null $row */
    private function loaded(string $id, Server $server, ?array $row): ?array
    {
        if ($row === null || MoveHome::isTombstone($row) || ($row['expired'] && !$this->keepExpired)) {
            return null;
        }
        $expired = (bool) $row['expired'];
        $raw = $row['sess_data'];
        $state = new SessionState($id, $server, $row, Snapshot::of($expired ? null : $raw, $row, (int) $row['now'], $expired));
        return ['data' => $expired ? null : $raw, 'state' => $state];
    }

    /**
     * A row read on a failover target, where a server before it in the session's order is
     * down: no row there says nothing of the session, which may well live on the server that
     * is down. That is SPG_DB_UNREACHABLE, never "absent" (a new session, and a logout that
     * destroys that one while the old one comes back with its server).
     *
     * @param array<string, mixed>|null $row
     * @return array<string, mixed>|null
     */
    private static function foundOrUnreachable(?array $row, Route $route): ?array
    {
        if ($row !== null || !$route->failedOver) {
            return $row;
        }
        $home = $route->home;
        foreach ($route->order as $server) {
            if (!$server->available()) {
                $home = $server;
                break;
            }
        }
        throw new SessionPgsqlException(
            SessionPgsqlException::DB_UNREACHABLE,
            "the session may live on server #{$home->index} ({$home->id}), which cannot be reached; it is not on the next server in its order",
        );
    }
}
