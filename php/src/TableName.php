<?php

declare(strict_types=1);

namespace SessionPgsql;

/**
 * The session table's name, parsed and quoted as the Node store does it
 * (src/sql/table-name.ts, table.ts): `table`, `schema.table` or quoted parts.
 *
 * @internal
 */
final class TableName
{
    private function __construct(
        public readonly ?string $schema,
        public readonly string $name,
        /** `"schema"."table"` or `"table"`, safe to put in SQL. */
        public readonly string $quoted,
    ) {
    }

    public static function quoteIdentifier(string $identifier): string
    {
        return '"' . str_replace('"', '""', $identifier) . '"';
    }

    public static function parse(string $input): self
    {
        $parts = [];
        $index = 0;
        $length = strlen($input);
        while ($index < $length) {
            if (preg_match('/\G(?:"((?:[^"]|"")+)"|([^".][^.]*))/', $input, $match, 0, $index) !== 1) {
                break;
            }
            $parts[] = ($match[1] ?? '') !== '' ? str_replace('""', '"', $match[1]) : $match[2];
            $index += strlen($match[0]);
            if ($index === $length) {
                break;
            }
            if ($input[$index] !== '.') {
                $parts = [];
                break;
            }
            $index += 1;
        }
        $tooLong = array_filter($parts, fn (string $p) => strlen($p) > 63);
        if (
            count($parts) < 1 || count($parts) > 2 || $index !== $length || str_ends_with($input, '.')
            || $tooLong !== [] || !Utf8::isValid($input)
        ) {
            throw new SessionPgsqlException(
                SessionPgsqlException::INVALID_OPTION,
                'option "table" must be "table" or "schema.table" (each part at most 63 bytes), got '
                    . json_encode($input, JSON_UNESCAPED_SLASHES | JSON_INVALID_UTF8_SUBSTITUTE),
            );
        }
        $schema = count($parts) === 2 ? $parts[0] : null;
        $name = $parts[count($parts) - 1];
        $quoted = $schema === null
            ? self::quoteIdentifier($name)
            : self::quoteIdentifier($schema) . '.' . self::quoteIdentifier($name);
        return new self($schema, $name, $quoted);
    }

    /** The expiry index's name, as table.ts's indexName makes it. */
    public function indexName(): string
    {
        $name = "{$this->name}_expire_idx";
        if (strlen($name) <= 63) {
            return $name;
        }
        $hash = base_convert((string) self::lockKey($this->quoted), 10, 36);
        $start = Utf8::characters($this->name);
        while (strlen(implode('', $start) . "_{$hash}_expire_idx") > 63) {
            array_pop($start);
        }
        return implode('', $start) . "_{$hash}_expire_idx";
    }

    /** table.ts's lockKey: a stable 31-bit key for the advisory lock that serializes creation. */
    public static function lockKey(string $name): int
    {
        $hash = 0x5E55;
        foreach (Utf8::codePoints($name) as $point) {
            $hash = Int32::signed(Int32::imul($hash, 31) + $point);
        }
        return $hash & 0x7FFFFFFF;
    }
}
