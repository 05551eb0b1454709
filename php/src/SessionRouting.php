<?php

declare(strict_types=1);

namespace SessionPgsql;

/**
 * Placement and failover, as the Node store does them (src/routing/): rendezvous hashing
 * of the stored key over the servers' names (or the list's order in failover mode); a
 * server that cannot be reached is left for the next one in the session's order, which
 * then carries a marker naming the session's home; copies written elsewhere during an
 * outage are moved home when read (MoveHome).
 *
 * @internal
 */
final class SessionRouting
{
    private const SCAN_BATCH = 500;
    private readonly ?Rendezvous $rendezvous;
    /** @var list<string> */
    private readonly array $ids;

    /** @param list<Server> $servers */
    public function __construct(public readonly array $servers, bool $failoverMode)
    {
        $this->ids = array_map(fn (Server $s) => $s->id, $servers);
        $this->rendezvous = $failoverMode || count($servers) === 1 ? null : new Rendezvous($this->ids);
    }

    /** @return list<Server> the servers for a stored key, best first */
    public function order(string $key): array
    {
        if ($this->rendezvous === null) {
            return $this->servers;
        }
        return array_map(fn (int $i) => $this->servers[$i], $this->rendezvous->rank($key));
    }

    public function route(string $key): Route
    {
        $order = $this->order($key);
        $home = $order[0];
        if (count($order) === 1) {
            return new Route($order, $home, false, $home, []);
        }
        $targetIndex = 0;
        foreach ($order as $i => $server) {
            if ($server->available()) {
                $targetIndex = $i;
                break;
            }
        }
        $homes = array_map(fn (Server $s) => $s->id, array_slice($order, 0, $targetIndex + 1));
        $others = array_values(array_filter(
            array_slice($order, $targetIndex + 1),
            fn (Server $s) => array_intersect($s->foreignHomes($this->ids), $homes) !== [],
        ));
        return new Route($order, $order[$targetIndex], $targetIndex > 0, $home, $others);
    }

    /**
     * Runs an operation on a session's servers: on its target, and when that server cannot
     * be reached, again on the next available one in the session's order.
     *
     * @template T
     * @param callable(Route): T $operation
     * @return T
     */
    public function run(string $key, callable $operation): mixed
    {
        for ($attempt = 1; ; $attempt++) {
            $route = $this->route($key);
            try {
                return $operation($route);
            } catch (SessionPgsqlException $e) {
                $count = count($this->servers);
                if ($e->errorCode !== SessionPgsqlException::DB_UNREACHABLE || $count === 1 || $route->target->available()) {
                    throw $e;
                }
                $anyUp = array_filter($this->servers, fn (Server $s) => $s->available()) !== [];
                if ($attempt >= $count || !$anyUp) {
                    throw new SessionPgsqlException(
                        SessionPgsqlException::DB_UNREACHABLE,
                        'cannot connect to any PostgreSQL server',
                        $e,
                    );
                }
            }
        }
    }

    /**
     * Moves the sessions written elsewhere during an outage back to their home once it
     * answers again, then drops the marker (the Node store's background hand-back, here run
     * from PHP's garbage collection). A marker set again meanwhile is kept.
     *
     * @return int the sessions looked at
     */
    public function handBack(): int
    {
        $looked = 0;
        foreach ($this->servers as $holder) {
            foreach ($holder->foreignHomes($this->ids) as $homeId) {
                $home = null;
                foreach ($this->servers as $server) {
                    if ($server->id === $homeId) {
                        $home = $server;
                    }
                }
                if ($home === null || !$home->available() || !$holder->available()) {
                    continue;
                }
                $marker = Statements::FOREIGN_MARKER_PREFIX . $homeId;
                $seen = $holder->run('markers', ['markers' => [$marker]], 'read a failover marker')['rows'][0]['sess_modified'] ?? null;
                if ($seen === null) {
                    continue;
                }
                $after = '';
                do {
                    $rows = $holder->run('scan', ['after' => $after, 'limit' => self::SCAN_BATCH], 'scan moved sessions')['rows'];
                    foreach ($rows as $row) {
                        $key = (string) $row['sess_id'];
                        $after = $key;
                        if (str_starts_with($key, '!')) {
                            continue;
                        }
                        $looked++;
                        $route = $this->route($key);
                        if ($route->target !== $holder && $route->target->available()) {
                            MoveHome::move($key, $route);
                        }
                    }
                } while (count($rows) === self::SCAN_BATCH);
                $holder->run('unmark', ['marker' => $marker, 'seen' => $seen], 'drop a failover marker');
            }
        }
        return $looked;
    }

    /** Records on the route's target that it now holds a session of the route's home. */
    public function mark(Route $route): void
    {
        $route->target->run('mark', ['marker' => Statements::FOREIGN_MARKER_PREFIX . $route->home->id], 'mark a failover');
        $route->target->addForeignHome($route->home->id);
    }
}
