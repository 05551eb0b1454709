<?php

declare(strict_types=1);

// session_pgsql's functions, on the handler of the active session (PgsqlSessionHandler).

use SessionPgsql\PgsqlSessionHandler;

if (!function_exists('session_pgsql_info')) {
    /**
     * The session's row: id, server, accesses, errors, warnings, notices, last message,
     * created, modified, expires (Unix seconds), creating and modifying address, custom field.
     *
     * @return array<string, mixed>
     */
    function session_pgsql_info(): array
    {
        return PgsqlSessionHandler::current()->info();
    }

    /** The custom field (`sess_custom`), or null. */
    function session_pgsql_get_field(): ?string
    {
        return PgsqlSessionHandler::current()->getField();
    }

    /** Sets the custom field (a string, or null to clear it); forces a write at the end of the request. */
    function session_pgsql_set_field(?string $value): bool
    {
        PgsqlSessionHandler::current()->setField($value);
        return true;
    }

    /**
     * Raises the 'error', 'warning' or 'notice' counter (or E_USER_ERROR, E_USER_WARNING,
     * E_USER_NOTICE), records the message if given; forces a write.
     */
    function session_pgsql_add_error(string|int $level, ?string $message = null): bool
    {
        PgsqlSessionHandler::current()->addError($level, $message);
        return true;
    }

    /**
     * The error, warning and notice counters, and the last message when asked.
     *
     * @return array{error: int, warning: int, notice: int, message?: ?string}
     */
    function session_pgsql_get_error(bool $withMessage = false): array
    {
        return PgsqlSessionHandler::current()->getError($withMessage);
    }

    /**
     * The servers (connection with the password hidden, up, last error, latency, live
     * sessions, statements run), their number, failoverMode, shortCircuit, keepExpired.
     *
     * @return array<string, mixed>
     */
    function session_pgsql_status(): array
    {
        return PgsqlSessionHandler::current()->status();
    }

    /** Reconnects every server. */
    function session_pgsql_reset(): bool
    {
        PgsqlSessionHandler::current()->reset();
        return true;
    }
}
