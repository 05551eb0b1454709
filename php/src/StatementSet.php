<?php

declare(strict_types=1);

namespace SessionPgsql;

/**
 * The Node store's statements (Statements.php, generated from src/sql/) for one table:
 * the quoted table and the cache's notification channel put in, values bound by name.
 *
 * @internal
 */
final class StatementSet
{
    /** @var array<string, string> */
    private array $texts = [];
    /** @var array<string, list<string>> */
    private array $params = [];
    public readonly string $createTable;
    /** The channel Node's caches LISTEN on (src/server/create-servers.ts). */
    public readonly string $channel;

    /** @param 'none'|'digests'|'ids' $notify how writes notify Node's caches */
    public function __construct(TableName $table, bool $keepExpired, string $notify)
    {
        $this->channel = 'session_pgsql_' . substr(sha1($table->quoted), 0, 16);
        $variant = ($keepExpired ? '1' : '0') . '/' . $notify;
        $replace = [Statements::TABLE => $table->quoted, Statements::CHANNEL => $this->channel];
        foreach (Statements::STATEMENTS as $kind => $variants) {
            [$text, $params] = $variants[$variant];
            $this->texts[$kind] = strtr(Statements::TEXTS[$text], $replace);
            $this->params[$kind] = $params;
        }
        $this->createTable = strtr(Statements::CREATE_TABLE, [
            Statements::TABLE => $table->quoted,
            Statements::INDEX => TableName::quoteIdentifier($table->indexName()),
            Statements::LOCK => (string) TableName::lockKey($table->quoted),
        ]);
    }

    public function text(string $kind): string
    {
        return $this->texts[$kind] ?? throw new \LogicException("no statement {$kind}");
    }

    /**
     * The positional values of a statement, from values by name, as libpq takes them (text).
     *
     * @param array<string, mixed> $values
     * @return list<?string>
     */
    public function bind(string $kind, array $values): array
    {
        $bound = [];
        foreach ($this->params[$kind] ?? [] as $name) {
            if (!array_key_exists($name, $values)) {
                throw new \LogicException("statement {$kind} needs a value for {$name}");
            }
            $bound[] = self::encode($values[$name]);
        }
        return $bound;
    }

    private static function encode(mixed $value): ?string
    {
        return match (true) {
            $value === null => null,
            $value === true => 't',
            $value === false => 'f',
            is_int($value), is_string($value) => (string) $value,
            is_float($value) => (string) $value,
            is_array($value) => '{' . implode(',', array_map(
                fn (mixed $item) => $item === null
                    ? 'NULL'
                    : '"' . str_replace(['\\', '"'], ['\\\\', '\\"'], (string) $item) . '"',
                $value,
            )) . '}',
            default => throw new \LogicException('cannot bind a ' . get_debug_type($value)),
        };
    }
}
