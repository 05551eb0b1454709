<?php

declare(strict_types=1);

namespace SessionPgsql;

/**
 * The handler's options, validated once: the Node store's names, defaults and bounds
 * (the defaults come from src/options/options.ts through Statements::DEFAULTS), plus what
 * only PHP needs. An unknown name or a bad value throws SPG_INVALID_OPTION.
 */
final class Options
{
    /** @var list<string> connection strings, passwords included (never shown) */
    public readonly array $servers;
    public readonly TableName $table;
    public readonly bool $createTable;
    public readonly bool $failoverMode;
    public readonly int $gcInterval;
    public readonly int $gcBatchSize;
    public readonly bool $shortCircuit;
    public readonly float $touchAfterFraction;
    public readonly bool $keepExpired;
    public readonly int $ttl;
    public readonly ?string $name;
    public readonly string $idPattern;
    public readonly bool $hashIds;
    public readonly int $maxSessionBytes;
    public readonly int $connectTimeoutMillis;
    public readonly int $queryTimeoutMillis;
    public readonly bool $notify;
    public readonly bool $persistent;
    /** @var (\Closure(): ?string)|null */
    public readonly ?\Closure $address;

    private const MAX_TIMER_MILLIS = 2147483647;
    private const TEN_YEARS = 10 * 365 * 86400;

    /** @param array<string, mixed> $options */
    public function __construct(#[\SensitiveParameter] array $options)
    {
        $known = [
            'db', 'table', 'createTable', 'failoverMode', 'gcInterval', 'gcBatchSize', 'shortCircuit',
            'touchAfterFraction', 'keepExpired', 'ttl', 'name', 'idPattern', 'hashIds', 'maxSessionBytes',
            'connectTimeoutMillis', 'queryTimeoutMillis', 'notify', 'persistent', 'address',
        ];
        foreach (array_keys($options) as $key) {
            if (!in_array($key, $known, true)) {
                throw SessionPgsqlException::invalidOption((string) $key, 'one of the documented options (unknown option)', $options[$key]);
            }
        }
        $d = Statements::DEFAULTS;
        $this->servers = self::servers($options['db'] ?? null);
        $table = $options['table'] ?? $d['table'];
        if (!is_string($table) || $table === '') {
            throw SessionPgsqlException::invalidOption('table', 'a non-empty string', $table);
        }
        $this->table = TableName::parse($table);
        $this->createTable = self::boolean($options, 'createTable', $d['createTable']);
        $this->failoverMode = self::boolean($options, 'failoverMode', $d['failoverMode']);
        $this->gcInterval = self::integer($options, 'gcInterval', $d['gcInterval'], -self::TEN_YEARS, self::TEN_YEARS, 'seconds');
        $this->gcBatchSize = self::integer($options, 'gcBatchSize', $d['gcBatchSize'], 1, 1000000);
        $this->shortCircuit = self::boolean($options, 'shortCircuit', $d['shortCircuit']);
        $fraction = $options['touchAfterFraction'] ?? $d['touchAfterFraction'];
        if (!(is_int($fraction) || is_float($fraction)) || $fraction < 0 || $fraction >= 1) {
            throw SessionPgsqlException::invalidOption('touchAfterFraction', 'a number from 0 up to (not including) 1', $fraction);
        }
        $this->touchAfterFraction = (float) $fraction;
        $this->keepExpired = self::boolean($options, 'keepExpired', $d['keepExpired']);
        $this->ttl = self::integer($options, 'ttl', max(1, (int) ini_get('session.gc_maxlifetime')), 1, 100 * 365 * 86400, 'seconds');
        $name = $options['name'] ?? null;
        if ($name !== null && (!is_string($name) || $name === '' || str_contains($name, "\0"))) {
            throw SessionPgsqlException::invalidOption('name', 'a non-empty string', $name);
        }
        $this->name = $name;
        $pattern = $options['idPattern'] ?? Statements::ID_PATTERN;
        if (!is_string($pattern) || @preg_match($pattern, '') === false) {
            throw SessionPgsqlException::invalidOption('idPattern', 'a PCRE pattern such as ' . Statements::ID_PATTERN, $pattern);
        }
        $this->idPattern = $pattern;
        $this->hashIds = self::boolean($options, 'hashIds', $d['hashIds']);
        $this->maxSessionBytes = self::integer($options, 'maxSessionBytes', $d['maxSessionBytes'], 1, 2 ** 30 - 1, 'bytes');
        $this->connectTimeoutMillis = self::integer($options, 'connectTimeoutMillis', $d['connectTimeoutMillis'], 1, self::MAX_TIMER_MILLIS, 'milliseconds');
        $this->queryTimeoutMillis = self::integer($options, 'queryTimeoutMillis', $d['queryTimeoutMillis'], 1, self::MAX_TIMER_MILLIS, 'milliseconds');
        $this->notify = self::boolean($options, 'notify', true);
        $this->persistent = self::boolean($options, 'persistent', false);
        $address = $options['address'] ?? null;
        if ($address !== null && !is_callable($address)) {
            throw SessionPgsqlException::invalidOption('address', 'a callable returning the client address or null', $address);
        }
        $this->address = $address === null ? null : \Closure::fromCallable($address);
    }

    /** @return list<string> */
    private static function servers(#[\SensitiveParameter] mixed $db): array
    {
        $entries = is_array($db) ? $db : [$db];
        $servers = [];
        foreach ($entries as $entry) {
            if (!is_string($entry) || trim($entry) === '') {
                throw SessionPgsqlException::invalidOption('db', 'a connection string, a postgres:// URL, or a list of them', is_string($entry) ? '' : $entry);
            }
            foreach (Conninfo::split($entry) as $server) {
                $servers[] = $server;
            }
        }
        if (count($servers) < 1 || count($servers) > 31) {
            throw new SessionPgsqlException(
                SessionPgsqlException::INVALID_OPTION,
                'option "db" must be from 1 to 31 servers, got ' . count($servers) . ' servers',
            );
        }
        return $servers;
    }

    /** @param array<string, mixed> $options */
    private static function boolean(array $options, string $name, bool $default): bool
    {
        $value = $options[$name] ?? $default;
        if (!is_bool($value)) {
            throw SessionPgsqlException::invalidOption($name, 'a boolean', $value);
        }
        return $value;
    }

    /** @param array<string, mixed> $options */
    private static function integer(array $options, string $name, int $default, int $min, int $max, ?string $unit = null): int
    {
        $value = $options[$name] ?? $default;
        if (!is_int($value) || $value < $min || $value > $max) {
            $range = "an integer from {$min} to {$max}" . ($unit === null ? '' : " ({$unit})");
            throw SessionPgsqlException::invalidOption($name, $range, $value);
        }
        return $value;
    }

    /** @return array<string, mixed> what var_dump and print_r show: no connection string */
    public function __debugInfo(): array
    {
        $shown = get_object_vars($this);
        $shown['servers'] = array_map(Conninfo::redact(...), $this->servers);
        return $shown;
    }
}
