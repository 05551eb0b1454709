<?php

declare(strict_types=1);

namespace SessionPgsql;

/**
 * Where one session lives right now (src/routing/server-router.ts).
 *
 * @internal
 */
final class Route
{
    /**
     * @param list<Server> $order every server in this session's order of preference
     * @param list<Server> $others servers after the target that may hold a newer copy,
     *                             written while a server before them was down (they carry a
     *                             failover marker for a server at or before the target)
     */
    public function __construct(
        public readonly array $order,
        /** The first available server in that order: reads and writes go there. */
        public readonly Server $target,
        /** True when a server before the target is down: writes there are failovers. */
        public readonly bool $failedOver,
        /** The session's home (first in its order): failover markers name it. */
        public readonly Server $home,
        public readonly array $others,
    ) {
    }
}
