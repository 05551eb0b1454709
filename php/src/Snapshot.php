<?php

declare(strict_types=1);

namespace SessionPgsql;

/**
 * What was last read or written of a session (src/store/session-state.ts): the stored text
 * and its digest as the database computed it (what compare-and-set compares), the stored
 * expiry, and the database's clock at that moment with this process's monotonic clock.
 *
 * @internal
 */
final class Snapshot
{
    private function __construct(
        /** The stored text, or null when the row had expired under keepExpired. */
        public readonly ?string $raw,
        public readonly ?string $md5,
        public readonly bool $expired,
        public readonly int $expireSeconds,
        public readonly int $dbNowSeconds,
        private readonly int $readAtNanos,
    ) {
    }

    /** @param array<string, mixed> $row */
    public static function of(?string $raw, array $row, int $dbNowSeconds, bool $expired): self
    {
        return new self(
            $raw,
            $raw === null ? null : ($row['sess_md5'] ?? null),
            $expired,
            (int) ($row['sess_expire'] ?? 0),
            $dbNowSeconds,
            hrtime(true),
        );
    }

    /** Our estimate of the database's clock now, in Unix seconds. */
    public function dbNow(): float
    {
        return $this->dbNowSeconds + (hrtime(true) - $this->readAtNanos) / 1e9;
    }
}
