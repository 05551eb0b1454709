<?php

declare(strict_types=1);

namespace SessionPgsql;

/**
 * The framework-free core of the PHP side, with the Node store's semantics
 * (src/store/store.ts) on the same table: read, write, touch, destroy, garbage collection,
 * status. PgsqlSessionHandler adapts PHP's session module to it.
 */
final class SessionStore
{
    public readonly Options $options;
    private readonly SessionRouting $routing;
    private readonly SessionIds $ids;
    private readonly SessionCodec $codec;
    private readonly SessionReader $reader;
    private readonly SessionWriter $writer;
    private readonly GarbageCollector $gc;

    /** @param array<string, mixed>|Options $options */
    public function __construct(#[\SensitiveParameter] array|Options $options)
    {
        $o = $options instanceof Options ? $options : new Options($options);
        $this->options = $o;
        $notify = !$o->notify ? 'none' : ($o->hashIds ? 'digests' : 'ids');
        $statements = new StatementSet($o->table, $o->keepExpired, $notify);
        $instance = 'php-' . bin2hex(random_bytes(8));
        $servers = [];
        foreach ($o->servers as $index => $conninfo) {
            $servers[] = new Server($index, $conninfo, $o, $statements, $instance);
        }
        $this->routing = new SessionRouting($servers, $o->failoverMode);
        $this->ids = new SessionIds($o->idPattern, $o->hashIds);
        $this->codec = new SessionCodec($o->maxSessionBytes);
        $this->reader = new SessionReader($this->routing, $o->keepExpired);
        $this->writer = new SessionWriter($this->routing, $this->codec);
        $this->gc = new GarbageCollector($servers, $o->gcInterval, $o->gcBatchSize);
    }

    /** The key stored in `sess_id` for a valid id (its SHA-256 with hashIds); null for anything else. */
    public function key(string $id): ?string
    {
        return $this->ids->key($id);
    }

    /**
     * Reads a session: null for a missing, expired or malformed id; throws on database
     * failure. With keepExpired an expired session comes back with data null and its metadata.
     *
     * @return array{data: ?string, state: SessionState}|null
     */
    public function read(string $id): ?array
    {
        $key = $this->ids->key($id);
        return $key === null ? null : $this->reader->read($id, $key);
    }

    /** A state for a session that has not been read (a new one), to hold metadata changes. */
    public function newState(string $id): SessionState
    {
        return new SessionState($id, $this->routing->route($this->ids->key($id) ?? '')->target);
    }

    /**
     * Writes a session (its data as PHP encoded it). Resolves false when the short circuit
     * skipped a write that would change nothing; changes another request made meanwhile to
     * other top-level keys are kept.
     *
     * @param int|null $lifetime seconds until it expires (by the database's clock); null: `ttl`
     */
    public function write(string $id, string $data, ?SessionState $state, ?int $lifetime, ?string $address, string $name): bool
    {
        $key = $this->requireKey($id);
        $this->codec->checkText($data);
        $this->codec->checkSize($data);
        $seconds = $this->lifetime($lifetime);
        if ($this->canSkip($state, $seconds) && $data === $state?->snapshot()?->raw) {
            return false;
        }
        $this->writer->write($id, $key, $data, $data, $seconds, $address, $name, $state);
        return true;
    }

    /**
     * Extends a session's expiry. With the short circuit it costs nothing while the stored
     * expiry is fresh. Pending metadata changes turn it into a full write.
     */
    public function touch(string $id, ?SessionState $state, ?int $lifetime, ?string $address, string $name): bool
    {
        $key = $this->requireKey($id);
        $seconds = $this->lifetime($lifetime);
        $raw = $state?->snapshot()?->raw;
        if ($state !== null && $state->dirty() && $raw !== null) {
            $this->writer->write($id, $key, $raw, null, $seconds, $address, $name, $state);
            return true;
        }
        if ($this->canSkip($state, $seconds)) {
            return false;
        }
        $o = $this->options;
        $skip = $o->shortCircuit ? (int) floor($seconds * $o->touchAfterFraction) : 0;
        return $this->writer->touch($key, $seconds, $skip, $address);
    }

    /**
     * Deletes a session, on every server that may hold a copy; while a server before its
     * target is down, a tombstone stays so that server's stale copy can never come back.
     */
    public function destroy(string $id): void
    {
        $key = $this->ids->key($id);
        if ($key !== null) {
            $this->writer->destroy($key);
        }
    }

    /** Collects when due for the fleet (see GarbageCollector::collectIfDue); the rows deleted. */
    public function collectIfDue(): int
    {
        return $this->gc->collectIfDue();
    }

    /**
     * With several servers: moves sessions written elsewhere during an outage home, and drops
     * the failover markers (see SessionRouting::handBack). PHP's gc() runs it.
     */
    public function handBack(): int
    {
        return count($this->routing->servers) > 1 ? $this->routing->handBack() : 0;
    }

    /** Deletes every expired session on every server now, without claiming (for cron). */
    public function collect(): int
    {
        return $this->gc->collect();
    }

    /**
     * Servers, their health and the settings that shape behaviour, as session_pgsql_status()
     * (and the Node store's status()) report them; passwords hidden.
     *
     * @return array<string, mixed>
     */
    public function status(): array
    {
        $o = $this->options;
        $servers = array_map(fn (Server $s) => $s->status(), $this->routing->servers);
        return [
            'servers' => $servers,
            'serverCount' => count($servers),
            'failoverMode' => $o->failoverMode,
            'shortCircuit' => $o->shortCircuit,
            'keepExpired' => $o->keepExpired,
            'gcIntervalSeconds' => $o->gcInterval,
            'table' => $o->table->quoted,
        ];
    }

    /** session_pgsql_reset(): reconnects every server. */
    public function reset(): void
    {
        foreach ($this->routing->servers as $server) {
            $server->reset();
        }
    }

    /** Closes the connections (persistent ones stay open for the next request). */
    public function close(): void
    {
        foreach ($this->routing->servers as $server) {
            $server->close();
        }
    }

    private function requireKey(string $id): string
    {
        return $this->ids->key($id) ?? throw new SessionPgsqlException(
            SessionPgsqlException::INVALID_SESSION_ID,
            'invalid session id: it does not match idPattern',
        );
    }

    private function lifetime(?int $seconds): int
    {
        return $seconds === null ? $this->options->ttl : min(Statements::MAX_LIFETIME_SECONDS, max(1, $seconds));
    }

    /** The short circuit: nothing changed and the stored expiry is still within the window. */
    private function canSkip(?SessionState $state, int $lifetime): bool
    {
        $snapshot = $state?->snapshot();
        if (!$this->options->shortCircuit || $state === null || $snapshot === null || $snapshot->expired || $state->dirty()) {
            return false;
        }
        return $snapshot->expireSeconds >= $snapshot->dbNow() + $lifetime - $lifetime * $this->options->touchAfterFraction;
    }
}
