<?php

declare(strict_types=1);

namespace SessionPgsql;

/**
 * Connection strings as the Node store reads and shows them (src/options/db-option.ts,
 * src/database/conninfo.ts): session_pgsql's `;`-separated list, and the name of a server
 * (its connection string, password replaced by `***`), which places sessions.
 *
 * @internal
 */
final class Conninfo
{
    /** Splits session_pgsql's `;`-separated list, leaving `;` inside single quotes alone. */
    public static function split(string $db): array
    {
        preg_match_all("/(?:'(?:[^'\\\\]|\\\\.)*'|[^;'])+/", $db, $matches);
        $servers = array_map(self::trim(...), $matches[0]);
        return array_values(array_filter($servers, fn (string $s) => $s !== ''));
    }

    /** JavaScript's String.prototype.trim: its whitespace, not PHP trim()'s (which removes NUL). */
    private static function trim(string $text): string
    {
        $space = '[\t\n\x{0B}\f\r \x{A0}\x{1680}\x{2000}-\x{200A}\x{2028}\x{2029}\x{202F}\x{205F}\x{3000}\x{FEFF}]';
        return preg_replace("/^{$space}+|{$space}+\$/u", '', $text) ?? trim($text, " \t\n\r\x0B\f");
    }

    public static function isUrl(string $db): bool
    {
        return preg_match('~^postgres(ql)?://~i', $db) === 1;
    }

    /** A connection string for display: the password replaced by `***`, as the Node store shows it. */
    public static function redact(string $db): string
    {
        // A multi-host URL is redacted with one host, then the list is put back.
        if (preg_match('~^(postgres(?:ql)?://(?:[^@/?#]*@)?)([^/?#]*,[^/?#]*)(.*)$~is', $db, $m) === 1) {
            $single = self::redact("{$m[1]}multi-host{$m[3]}");
            $at = strpos($single, 'multi-host');
            return $at === false ? $single : substr_replace($single, $m[2], $at, strlen('multi-host'));
        }
        if (self::isUrl($db)) {
            return self::redactUrl($db) ?? 'postgres://***';
        }
        return preg_replace("/(password\\s*=\\s*)('(?:[^'\\\\]|\\\\.)*'|(?:[^\\s'\\\\]|\\\\.)*)/i", '$1***', $db) ?? $db;
    }

    /**
     * The connection string libpq gets: with the handler's timeouts, unless the string sets
     * them itself (`connect_timeout`, `options`), and UTF-8 as the client encoding.
     *
     * @param array<string, string> $settings keyword => value
     */
    public static function withSettings(string $db, array $settings): string
    {
        if (self::isUrl($db)) {
            $query = parse_url($db, PHP_URL_QUERY);
            $given = [];
            parse_str(is_string($query) ? $query : '', $given);
            $extra = array_diff_key($settings, array_change_key_case($given));
            if ($extra === []) {
                return $db;
            }
            $fragment = strpos($db, '#');
            $base = $fragment === false ? $db : substr($db, 0, $fragment);
            return $base . (str_contains($base, '?') ? '&' : '?') . http_build_query($extra, '', '&', PHP_QUERY_RFC3986);
        }
        foreach ($settings as $key => $value) {
            if (preg_match('/(^|\s)' . preg_quote($key, '/') . '\s*=/i', $db) === 1) {
                continue;
            }
            $db .= " {$key}='" . str_replace(['\\', "'"], ['\\\\', "\\'"], $value) . "'";
        }
        return $db;
    }

    /** The WHATWG URL serialization Node's `new URL()` gives, with the password replaced. */
    private static function redactUrl(string $db): ?string
    {
        if (preg_match('~^([A-Za-z][A-Za-z0-9+.-]*)://([^/?#]*)([^?#]*)(\?[^#]*)?(#.*)?$~s', $db, $m) !== 1) {
            return null;
        }
        $scheme = strtolower($m[1]);
        $authority = $m[2];
        $path = $m[3];
        $query = isset($m[4]) && $m[4] !== '' ? substr($m[4], 1) : null;
        $fragment = isset($m[5]) && $m[5] !== '' ? substr($m[5], 1) : null;
        $username = '';
        $password = '';
        $at = strrpos($authority, '@');
        if ($at !== false) {
            $userinfo = str_replace('@', '%40', substr($authority, 0, $at));
            $authority = substr($authority, $at + 1);
            $colon = strpos($userinfo, ':');
            $username = $colon === false ? $userinfo : substr($userinfo, 0, $colon);
            $password = $colon === false ? '' : substr($userinfo, $colon + 1);
        }
        $host = $authority;
        $port = null;
        if (preg_match('/^(\[[^\]]*\]|[^:]*)(?::(.*))?$/s', $authority, $hp) !== 1) {
            return null;
        }
        $host = $hp[1];
        if (isset($hp[2]) && $hp[2] !== '') {
            if (preg_match('/^[0-9]+$/', $hp[2]) !== 1 || (int) $hp[2] > 65535) {
                return null;
            }
            $port = (string) (int) $hp[2];
        }
        if (str_starts_with($host, '[')) {
            $host = self::ipv6($host);
            if ($host === null) {
                return null;
            }
        } elseif (preg_match('/[\x00\x09\x0A\x0D #\/:<>?@\[\\\\\]^|]/', $host) === 1 || ($host === '' && ($username !== '' || $password !== '' || $port !== null))) {
            return null;
        }
        $userinfoSet = " \"#<>?`{}/:;=@[\\]^|";
        $username = self::percentEncode($username, $userinfoSet);
        $password = self::percentEncode($password, $userinfoSet);
        if ($password !== '') {
            $password = '***';
        }
        $host = self::percentEncode($host, '');
        $path = self::percentEncode(self::normalizePath($path), " \"<>`{}");
        if ($query !== null) {
            $query = self::redactQuery($query) ?? self::percentEncode($query, " \"<>");
        }
        if ($fragment !== null) {
            $fragment = self::percentEncode($fragment, " \"<>`");
        }
        $credentials = $username !== '' || $password !== ''
            ? $username . ($password !== '' ? ":{$password}" : '') . '@'
            : '';
        return "{$scheme}://{$credentials}{$host}" . ($port !== null ? ":{$port}" : '') . $path
            . ($query !== null ? "?{$query}" : '') . ($fragment !== null ? "#{$fragment}" : '');
    }

    /** `[address]` as the URL parser writes an IPv6 address: lowercase, the longest run of zeros as `::`. */
    private static function ipv6(string $host): ?string
    {
        $bytes = str_ends_with($host, ']') ? @inet_pton(substr($host, 1, -1)) : false;
        if (!is_string($bytes) || strlen($bytes) !== 16) {
            return null;
        }
        $groups = array_values(unpack('n8', $bytes) ?: []);
        [$start, $length] = [-1, 0];
        for ($i = 0; $i < 8; $i++) {
            $run = 0;
            while ($i + $run < 8 && $groups[$i + $run] === 0) {
                $run++;
            }
            if ($run > $length && $run > 1) {
                [$start, $length] = [$i, $run];
            }
        }
        $out = '';
        for ($i = 0; $i < 8; $i++) {
            if ($i === $start) {
                $out .= $i === 0 ? '::' : ':';
                $i += $length - 1;
                continue;
            }
            $out .= dechex($groups[$i]) . ($i < 7 ? ':' : '');
        }
        return "[{$out}]";
    }

    /** Percent-encodes C0 controls, DEL, non-ASCII bytes and the characters of `$set`. */
    private static function percentEncode(string $text, string $set): string
    {
        return preg_replace_callback(
            '/[\x00-\x1F\x7F-\xFF' . preg_quote($set, '/') . ']/',
            fn (array $c) => sprintf('%%%02X', ord($c[0])),
            $text,
        ) ?? $text;
    }

    /** Removes `.` and `..` segments, as the URL parser does. */
    private static function normalizePath(string $path): string
    {
        if ($path === '') {
            return '';
        }
        $segments = explode('/', substr($path, 1));
        $out = [];
        $last = count($segments) - 1;
        foreach ($segments as $i => $segment) {
            $lower = strtolower($segment);
            if (in_array($lower, ['..', '.%2e', '%2e.', '%2e%2e'], true)) {
                array_pop($out);
                if ($i === $last) {
                    $out[] = '';
                }
            } elseif (in_array($lower, ['.', '%2e'], true)) {
                if ($i === $last) {
                    $out[] = '';
                }
            } else {
                $out[] = $segment;
            }
        }
        return '/' . implode('/', $out);
    }

    /**
     * A query with a `password` parameter: Node sets it to `***` through URLSearchParams,
     * which writes the whole query again as application/x-www-form-urlencoded. Null when
     * there is no such parameter (the query is kept as written).
     */
    private static function redactQuery(string $query): ?string
    {
        $pairs = [];
        foreach (explode('&', $query) as $part) {
            if ($part === '') {
                continue;
            }
            $eq = strpos($part, '=');
            $name = $eq === false ? $part : substr($part, 0, $eq);
            $value = $eq === false ? '' : substr($part, $eq + 1);
            $pairs[] = [rawurldecode(str_replace('+', ' ', $name)), rawurldecode(str_replace('+', ' ', $value))];
        }
        $names = array_values(array_unique(array_filter(
            array_column($pairs, 0),
            fn (string $n) => strtolower($n) === 'password',
        )));
        if ($names === []) {
            return null;
        }
        foreach ($names as $name) {
            $kept = [];
            $seen = false;
            foreach ($pairs as [$n, $v]) {
                if ($n !== $name) {
                    $kept[] = [$n, $v];
                } elseif (!$seen) {
                    $kept[] = [$n, '***'];
                    $seen = true;
                }
            }
            $pairs = $kept;
        }
        $encode = fn (string $s) => preg_replace_callback(
            '/[^A-Za-z0-9*\-._ ]/',
            fn (array $c) => sprintf('%%%02X', ord($c[0])),
            $s,
        );
        return implode('&', array_map(
            fn (array $p) => str_replace(' ', '+', $encode($p[0]) . '=' . $encode($p[1])),
            $pairs,
        ));
    }
}
