<?php

declare(strict_types=1);

namespace SessionPgsql;

/**
 * The session cookie of express-session, read and written by PHP, so that a PHP app and an
 * Express app on one domain share one session: the same cookie name (`connect.sid` by
 * default) and express-session's signed format, `s:<id>.<signature>` where the signature is
 * the base64 HMAC-SHA256 of the id with the shared secret, without padding (the
 * cookie-signature package). A cookie whose signature does not verify with one of the
 * secrets is ignored, as express-session ignores it: a new session starts. PHP's own
 * cookie handling is turned off (session.use_cookies = 0) so that it never sends an
 * unsigned id.
 *
 * ```php
 * $cookie = new SessionPgsql\ExpressSessionCookie(getenv('SESSION_SECRET'));
 * SessionPgsql\PgsqlSessionHandler::register(['db' => $db]);
 * $cookie->start();            // instead of session_start()
 * $cookie->regenerate();       // instead of session_regenerate_id(true), e.g. at login
 * $cookie->destroy();          // instead of session_destroy(), e.g. at logout
 * ```
 */
final class ExpressSessionCookie
{
    /** @var list<string> the first signs, every one verifies (express-session's secret array) */
    private readonly array $secrets;
    /** @var array{lifetime: int, path: string, domain: string, secure: bool, httponly: bool, samesite: string} */
    private readonly array $params;

    /**
     * @param string|list<string> $secret express-session's `secret` (a list: the first signs, all verify)
     * @param array<string, mixed> $cookie the cookie's attributes, as session_set_cookie_params()
     *     takes them (lifetime in seconds, 0: until the browser closes; path, domain, secure,
     *     httponly, samesite); default: PHP's session.cookie_* settings
     */
    public function __construct(
        #[\SensitiveParameter] string|array $secret,
        public readonly string $name = 'connect.sid',
        array $cookie = [],
    ) {
        $secrets = array_values(is_array($secret) ? $secret : [$secret]);
        if ($secrets === [] || array_filter($secrets, fn (mixed $s) => !is_string($s) || $s === '') !== []) {
            throw new SessionPgsqlException(SessionPgsqlException::INVALID_OPTION, 'the cookie secret must be a non-empty string, or a list of them');
        }
        if ($name === '' || preg_match('/[=,; \t\r\n\x0B\x0C]/', $name) === 1) {
            throw SessionPgsqlException::invalidOption('name', 'a cookie name', $name);
        }
        $this->secrets = $secrets;
        $unknown = array_diff(array_keys($cookie), ['lifetime', 'path', 'domain', 'secure', 'httponly', 'samesite']);
        if ($unknown !== []) {
            throw SessionPgsqlException::invalidOption((string) reset($unknown), 'one of lifetime, path, domain, secure, httponly, samesite', $cookie[reset($unknown)]);
        }
        $this->params = [...session_get_cookie_params(), ...$cookie];
    }

    /**
     * session_start() with the id of a validly signed cookie; a new session (no cookie, a
     * forged or stale one) gets a new id and the signed cookie for it.
     *
     * @param array<string, mixed> $options session_start()'s options
     */
    public function start(array $options = []): bool
    {
        ini_set('session.use_cookies', '0');
        ini_set('session.use_only_cookies', '1');
        ini_set('session.use_trans_sid', '0');
        ini_set('session.use_strict_mode', '1');
        session_name($this->name);
        $id = $this->idFromCookie();
        session_id($id ?? '');
        $started = session_start($options);
        $current = session_id();
        if ($started && is_string($current) && $current !== $id) {
            $this->send($current);
        }
        return $started;
    }

    /** session_regenerate_id() (by default deleting the old session), and the cookie for the new id. */
    public function regenerate(bool $deleteOld = true): bool
    {
        $regenerated = session_regenerate_id($deleteOld);
        $current = session_id();
        if ($regenerated && is_string($current)) {
            $this->send($current);
        }
        return $regenerated;
    }

    /** session_destroy(), and the cookie removed. */
    public function destroy(): bool
    {
        $destroyed = session_destroy();
        setcookie($this->name, '', ['expires' => 1, ...$this->attributes()]);
        return $destroyed;
    }

    /** The session id of the request's cookie when its signature verifies; null otherwise. */
    public function idFromCookie(): ?string
    {
        $value = self::cookieValue($_SERVER['HTTP_COOKIE'] ?? null, $this->name);
        return $value === null ? null : self::unsign($value, $this->secrets);
    }

    /** express-session's cookie value for an id: `s:` + cookie-signature's sign(id, secret). */
    public static function sign(string $id, #[\SensitiveParameter] string $secret): string
    {
        return 's:' . $id . '.' . rtrim(base64_encode(hash_hmac('sha256', $id, $secret, true)), '=');
    }

    /**
     * The id in a signed value (`s:<id>.<signature>`) when the signature is right for one of
     * the secrets (compared in constant time); null otherwise.
     *
     * @param list<string> $secrets
     */
    public static function unsign(string $value, #[\SensitiveParameter] array $secrets): ?string
    {
        if (!str_starts_with($value, 's:')) {
            return null;
        }
        $signed = substr($value, 2);
        $dot = strrpos($signed, '.');
        if ($dot === false) {
            return null;
        }
        $id = substr($signed, 0, $dot);
        foreach ($secrets as $secret) {
            if (hash_equals(substr(self::sign($id, $secret), 2), $signed)) {
                return $id;
            }
        }
        return null;
    }

    /**
     * A cookie's value from the Cookie header, as express-session reads it (the `cookie`
     * package: the first cookie of that name, percent-decoded). PHP's $_COOKIE cannot be
     * used: it renames `connect.sid` to `connect_sid`.
     */
    public static function cookieValue(mixed $header, string $name): ?string
    {
        if (!is_string($header)) {
            return null;
        }
        foreach (explode(';', $header) as $pair) {
            $eq = strpos($pair, '=');
            if ($eq === false || trim(substr($pair, 0, $eq)) !== $name) {
                continue;
            }
            $value = trim(substr($pair, $eq + 1));
            if (strlen($value) >= 2 && $value[0] === '"' && $value[-1] === '"') {
                $value = substr($value, 1, -1);
            }
            return str_contains($value, '%') ? rawurldecode($value) : $value;
        }
        return null;
    }

    private function send(string $id): void
    {
        $lifetime = (int) $this->params['lifetime'];
        setcookie($this->name, self::sign($id, $this->secrets[0]), [
            'expires' => $lifetime > 0 ? time() + $lifetime : 0,
            ...$this->attributes(),
        ]);
    }

    /** @return array<string, mixed> */
    private function attributes(): array
    {
        $attributes = [
            'path' => (string) $this->params['path'],
            'secure' => (bool) $this->params['secure'],
            'httponly' => (bool) $this->params['httponly'],
        ];
        if ((string) $this->params['domain'] !== '') {
            $attributes['domain'] = (string) $this->params['domain'];
        }
        if ((string) $this->params['samesite'] !== '') {
            $attributes['samesite'] = (string) $this->params['samesite'];
        }
        return $attributes;
    }

    /** @return array<string, mixed> what var_dump and print_r show: no secret */
    public function __debugInfo(): array
    {
        return ['name' => $this->name, 'params' => $this->params];
    }
}
