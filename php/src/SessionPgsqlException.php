<?php

declare(strict_types=1);

namespace SessionPgsql;

/**
 * Every failure of the handler, with the same stable codes as the Node store's
 * SessionPgsqlError (`$e->errorCode`, e.g. `SPG_DB_UNREACHABLE`). A PostgreSQL error keeps
 * its SQLSTATE in `$e->sqlState`.
 */
final class SessionPgsqlException extends \RuntimeException
{
    public const INVALID_OPTION = 'SPG_INVALID_OPTION';
    public const INVALID_SESSION_ID = 'SPG_INVALID_SESSION_ID';
    public const SESSION_TOO_LARGE = 'SPG_SESSION_TOO_LARGE';
    public const SERIALIZE_FAILED = 'SPG_SERIALIZE_FAILED';
    public const PARSE_FAILED = 'SPG_PARSE_FAILED';
    public const DB_UNREACHABLE = 'SPG_DB_UNREACHABLE';
    public const DB_QUERY_FAILED = 'SPG_DB_QUERY_FAILED';
    public const TABLE_SETUP_FAILED = 'SPG_TABLE_SETUP_FAILED';
    public const INVALID_ERROR_LEVEL = 'SPG_INVALID_ERROR_LEVEL';
    public const NO_SESSION = 'SPG_NO_SESSION';
    public const SESSION_LOCKED = 'SPG_SESSION_LOCKED';

    public function __construct(
        public readonly string $errorCode,
        string $message,
        ?\Throwable $previous = null,
        public readonly ?string $sqlState = null,
    ) {
        parent::__construct($message, 0, $previous);
    }

    public static function invalidOption(string $name, string $expected, mixed $value): self
    {
        $shown = is_string($value) ? json_encode($value, JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE) : get_debug_type($value);
        if (is_int($value) || is_float($value) || is_bool($value)) {
            $shown = var_export($value, true);
        }
        return new self(self::INVALID_OPTION, "option \"{$name}\" must be {$expected}, got {$shown}");
    }
}
