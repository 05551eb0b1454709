<?php

declare(strict_types=1);

namespace SessionPgsql;

/**
 * One session during one request, as the Node store keeps it (src/store/session-state.ts):
 * its stored metadata, and the changes the application made to it (custom field, error
 * counters) that force a write. What session_pgsql_info(), _get_field(), _set_field(),
 * _add_error() and _get_error() work on.
 */
final class SessionState
{
    /** @var array{value: ?string}|null */
    private ?array $custom = null;
    /** @var array{error: int, warning: int, notice: int} */
    private array $added = ['error' => 0, 'warning' => 0, 'notice' => 0];
    private ?string $message = null;

    /** @param array<string, mixed>|null $row */
    public function __construct(
        public readonly string $id,
        public readonly Server $server,
        private ?array $row = null,
        private ?Snapshot $snapshot = null,
    ) {
    }

    /** @internal */
    public function snapshot(): ?Snapshot
    {
        return $this->snapshot;
    }

    /** Seconds until the stored expiry, by the database's clock; null for a new session. */
    public function remainingSeconds(): ?float
    {
        return $this->snapshot === null ? null : $this->snapshot->expireSeconds - $this->snapshot->dbNow();
    }

    /** True when the application changed metadata that must be written. */
    public function dirty(): bool
    {
        return $this->custom !== null || array_sum($this->added) > 0;
    }

    /**
     * @internal the pending changes, as statement parameters
     * @return array{error: int, warning: int, notice: int, message: ?string, customSet: bool, custom: ?string}
     */
    public function changes(): array
    {
        return [
            ...$this->added,
            'message' => $this->message,
            'customSet' => $this->custom !== null,
            // setField(null) clears the field: only an unset field keeps the stored value
            'custom' => $this->custom !== null ? $this->custom['value'] : ($this->row['sess_custom'] ?? null),
        ];
    }

    /**
     * @internal records a successful write: the changes are now stored
     * @param array<string, mixed> $row
     */
    public function written(array $row, Snapshot $snapshot): void
    {
        $this->row = $row;
        $this->snapshot = $snapshot;
        $this->custom = null;
        $this->added = ['error' => 0, 'warning' => 0, 'notice' => 0];
        $this->message = null;
    }

    /**
     * session_pgsql_info(): the session's row as read, with this request's pending changes
     * (times in Unix seconds).
     *
     * @return array{id: string, server: array{index: int, connection: string}, accesses: int, errors: int, warnings: int, notices: int, errorMessage: ?string, created: ?int, modified: ?int, expires: ?int, createdAddress: ?string, modifiedAddress: ?string, custom: ?string}
     */
    public function info(): array
    {
        $row = $this->row ?? [];
        return [
            'id' => $this->id,
            'server' => ['index' => $this->server->index, 'connection' => $this->server->id],
            'accesses' => (int) ($row['sess_counter'] ?? 0),
            'errors' => (int) ($row['sess_error'] ?? 0) + $this->added['error'],
            'warnings' => (int) ($row['sess_warning'] ?? 0) + $this->added['warning'],
            'notices' => (int) ($row['sess_notice'] ?? 0) + $this->added['notice'],
            'errorMessage' => $this->message ?? $row['sess_err_message'] ?? null,
            'created' => $row['sess_created'] ?? null,
            'modified' => $row['sess_modified'] ?? null,
            'expires' => $row['sess_expire'] ?? null,
            'createdAddress' => $row['sess_addr_created'] ?? null,
            'modifiedAddress' => $row['sess_addr_modified'] ?? null,
            'custom' => $this->getField(),
        ];
    }

    /** The free application field (`sess_custom`). */
    public function getField(): ?string
    {
        return $this->custom !== null ? $this->custom['value'] : ($this->row['sess_custom'] ?? null);
    }

    /** Sets the free application field; forces a write at the end of the request. */
    public function setField(?string $value): void
    {
        self::refuseNul('setField', $value);
        $this->custom = ['value' => $value];
    }

    /**
     * Raises the error, warning or notice counter; forces a write. The message goes to
     * `sess_err_message`. The level is 'error', 'warning' or 'notice' (or E_USER_ERROR,
     * E_USER_WARNING, E_USER_NOTICE, E_ERROR, E_WARNING, E_NOTICE).
     */
    public function addError(string|int $level, ?string $message = null): void
    {
        $name = match ($level) {
            'error', E_ERROR, E_USER_ERROR => 'error',
            'warning', E_WARNING, E_USER_WARNING => 'warning',
            'notice', E_NOTICE, E_USER_NOTICE => 'notice',
            default => throw new SessionPgsqlException(
                SessionPgsqlException::INVALID_ERROR_LEVEL,
                'error level must be error, warning or notice, got ' . json_encode($level, JSON_INVALID_UTF8_SUBSTITUTE),
            ),
        };
        self::refuseNul('addError', $message);
        $this->added[$name] += 1;
        if ($message !== null) {
            $this->message = $message;
        }
    }

    /**
     * The three counters, and the last message when asked.
     *
     * @return array{error: int, warning: int, notice: int, message?: ?string}
     */
    public function getError(bool $withMessage = false): array
    {
        $info = $this->info();
        $counters = ['error' => $info['errors'], 'warning' => $info['warnings'], 'notice' => $info['notices']];
        return $withMessage ? [...$counters, 'message' => $info['errorMessage']] : $counters;
    }

    /** PostgreSQL's text cannot hold NUL (or bytes that are not UTF-8): refused when given. */
    private static function refuseNul(string $method, ?string $value): void
    {
        if ($value !== null && (str_contains($value, "\0") || !Utf8::isValid($value))) {
            throw new SessionPgsqlException(
                SessionPgsqlException::INVALID_OPTION,
                "{$method} takes UTF-8 text without NUL characters (PostgreSQL text cannot hold them)",
            );
        }
    }
}
