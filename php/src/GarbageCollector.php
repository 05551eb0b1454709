<?php

declare(strict_types=1);

namespace SessionPgsql;

/**
 * Deletes expired sessions in batches, with the Node store's fleet-wide claim
 * (src/gc/garbage-collector.ts): a collection first claims the interval by updating the
 * `'!gc'` marker row, and only one claim per interval succeeds across every PHP and Node
 * process sharing the table.
 *
 * @internal
 */
final class GarbageCollector
{
    /** After each batch, wait as long as it took (at most this): half the server's time at most. */
    private const MAX_PAUSE_MICROS = 1_000_000;

    /** @param list<Server> $servers */
    public function __construct(private readonly array $servers, private readonly int $intervalSeconds, private readonly int $batchSize)
    {
    }

    /**
     * PHP's gc() callback: with a positive interval, collect the servers whose interval has
     * passed for the whole fleet (one claim wins per interval); negative: collect every time;
     * 0: never (use collect() from cron). Resolves the rows deleted.
     */
    public function collectIfDue(): int
    {
        if ($this->intervalSeconds < 0) {
            return $this->collect();
        }
        if ($this->intervalSeconds === 0) {
            return 0;
        }
        $deleted = 0;
        foreach ($this->servers as $server) {
            if (!$server->available()) {
                continue; // collected by another request once it is back
            }
            try {
                $claimed = $server->run('gcClaim', ['intervalSeconds' => $this->intervalSeconds], 'claim the garbage collection');
                if ($claimed['rows'] !== []) {
                    $deleted += $this->collectServer($server);
                }
            } catch (SessionPgsqlException $e) {
                trigger_error("session-pgsql SPG_GC_FAILED: garbage collection failed: {$e->getMessage()}", E_USER_WARNING);
            }
        }
        return $deleted;
    }

    /** Collects every server now, without claiming (for cron). Resolves the rows deleted. */
    public function collect(): int
    {
        $deleted = 0;
        foreach ($this->servers as $server) {
            $deleted += $this->collectServer($server);
        }
        return $deleted;
    }

    private function collectServer(Server $server): int
    {
        $deleted = 0;
        // Two short statements per batch: no statement locks more than one batch of rows.
        for (;;) {
            $started = hrtime(true);
            $rows = $server->run('gcSelect', ['limit' => $this->batchSize], 'find expired sessions')['rows'];
            if ($rows === []) {
                break;
            }
            $keys = array_map(fn (array $r) => (string) $r['sess_id'], $rows);
            $deleted += $server->run('gcDelete', ['keys' => $keys], 'delete expired sessions')['affected'];
            if (count($rows) < $this->batchSize) {
                break;
            }
            usleep((int) min(self::MAX_PAUSE_MICROS, (hrtime(true) - $started) / 1000));
        }
        return $deleted;
    }
}
