<?php

declare(strict_types=1);

namespace SessionPgsql;

/**
 * PHP's session save handler on session-pgsql's table, with the Node store's semantics:
 * PHP and Node processes can share the table, and sessions. session_pgsql's functions
 * (session_pgsql_info(), _get_field(), _set_field(), _add_error(), _get_error(),
 * _status(), _reset()) work on the handler of the active session.
 *
 * ```php
 * SessionPgsql\PgsqlSessionHandler::register(['db' => 'host=db dbname=app user=web']);
 * session_start();
 * ```
 *
 * Failures throw SessionPgsqlException (stable `errorCode`, as the Node store's codes):
 * a database failure is never turned into an empty session.
 */
class PgsqlSessionHandler implements \SessionHandlerInterface, \SessionUpdateTimestampHandlerInterface, \SessionIdInterface
{
    private static ?self $current = null;
    public readonly SessionStore $store;
    private string $name = 'PHPSESSID';
    /** @var array<string, SessionState> this request's sessions, by id */
    private array $states = [];
    /** @var array<string, array{data: ?string, state: SessionState}|SessionPgsqlException|null> what validateId read, for read() */
    private array $validated = [];
    /** Lifetime of the sessions written from now on (setLifetime); null: see lifetimeOf. */
    private ?int $lifetime = null;

    /** @param array<string, mixed>|SessionStore $options the options of SessionStore, or one */
    public function __construct(#[\SensitiveParameter] array|SessionStore $options)
    {
        $this->store = $options instanceof SessionStore ? $options : new SessionStore($options);
    }

    /**
     * Installs a handler (session_set_save_handler) with the php.ini settings it relies on:
     * `session.use_strict_mode` on, so that an id nobody issued is never adopted. Call it
     * before session_start().
     *
     * @param array<string, mixed>|SessionStore $options
     */
    public static function register(#[\SensitiveParameter] array|SessionStore $options): static
    {
        $handler = new static($options);
        ini_set('session.use_strict_mode', '1');
        session_set_save_handler($handler, true);
        return $handler;
    }

    /** The handler of the session this request opened; throws SPG_NO_SESSION if none. */
    public static function current(): self
    {
        return self::$current ?? throw new SessionPgsqlException(
            SessionPgsqlException::NO_SESSION,
            'no session was opened by a PgsqlSessionHandler (call PgsqlSessionHandler::register() and session_start() first)',
        );
    }

    public function open(string $path, string $name): bool
    {
        if (!filter_var(ini_get('session.use_strict_mode'), FILTER_VALIDATE_BOOLEAN)) {
            throw new SessionPgsqlException(
                SessionPgsqlException::INVALID_OPTION,
                'session.use_strict_mode must be on: without it PHP adopts session ids that nobody issued '
                    . '(PgsqlSessionHandler::register() sets it)',
            );
        }
        self::$current = $this;
        $this->name = $name;
        return true;
    }

    /** The connections stay open until the request ends (session_regenerate_id closes and opens). */
    public function close(): bool
    {
        return true;
    }

    /** A new id, in the format express-session makes: 24 random bytes, base64url (32 characters). */
    public function create_sid(): string
    {
        return SessionIds::create();
    }

    /**
     * With session.use_strict_mode: an id is valid when it matches idPattern and its session
     * is stored and live (or expired but kept, with keepExpired).
     */
    public function validateId(string $id): bool
    {
        if ($this->store->key($id) === null) {
            return false;
        }
        try {
            $loaded = $this->store->read($id);
        } catch (SessionPgsqlException $e) {
            // Thrown from here, PHP would hide it behind "Session id must be a string": read()
            // throws it instead, out of session_start().
            $this->validated[$id] = $e;
            return true;
        }
        $this->validated[$id] = $loaded;
        return $loaded !== null;
    }

    public function read(string $id): string|false
    {
        if (array_key_exists($id, $this->validated)) {
            $loaded = $this->validated[$id];
            unset($this->validated[$id]);
            if ($loaded instanceof SessionPgsqlException) {
                throw $loaded;
            }
        } else {
            $loaded = $this->store->read($id);
        }
        $this->states[$id] = $loaded['state'] ?? $this->store->newState($id);
        return $loaded['data'] ?? '';
    }

    public function write(string $id, string $data): bool
    {
        $state = $this->states[$id] ?? null;
        if ($data === '' && $state?->snapshot() === null && !($state?->dirty() ?? false)) {
            return true; // a new session that holds nothing: no row (saveUninitialized: false)
        }
        $this->store->write($id, $data, $state, $this->lifetimeOf($state), $this->address(), $this->sessionName());
        return true;
    }

    /** session.lazy_write: the data did not change. The short circuit may skip the write entirely. */
    public function updateTimestamp(string $id, string $data): bool
    {
        $state = $this->states[$id] ?? null;
        if ($state?->snapshot() === null) {
            if ($state?->dirty() ?? false) {
                // metadata set on a session not stored yet: stored now, not lost
                $this->store->write($id, $data, $state, $this->lifetimeOf($state), $this->address(), $this->sessionName());
            }
            return true; // nothing stored to touch
        }
        $this->store->touch($id, $state, $this->lifetimeOf($state), $this->address(), $this->sessionName());
        return true;
    }

    public function destroy(string $id): bool
    {
        $caller = debug_backtrace(DEBUG_BACKTRACE_IGNORE_ARGS, 2)[1]['function'] ?? '';
        if ($caller === 'session_start') {
            // PHP destroys a session it cannot decode: a session written in another format
            // (another serializer, a Node app with JSON) is left untouched instead.
            throw new SessionPgsqlException(
                SessionPgsqlException::PARSE_FAILED,
                'PHP could not decode the stored session with session.serialize_handler "'
                    . ini_get('session.serialize_handler') . '"; the row is left untouched',
            );
        }
        unset($this->states[$id]);
        $this->store->destroy($id);
        return true;
    }

    /**
     * PHP's garbage collection (session.gc_probability / gc_divisor per session_start): a
     * check of the fleet-wide claim, so that PHP and Node processes sharing the table collect
     * once per `gcInterval` between them. session_gc() collects now, as the Node store's gc().
     * With several servers it first moves home the sessions written elsewhere during an
     * outage and drops the failover markers, as Node processes do in the background.
     */
    public function gc(int $max_lifetime): int|false
    {
        $caller = debug_backtrace(DEBUG_BACKTRACE_IGNORE_ARGS, 2)[1]['function'] ?? '';
        try {
            $this->store->handBack();
        } catch (SessionPgsqlException $e) {
            trigger_error("session-pgsql SPG_HANDBACK_FAILED: moving sessions home after a failover failed: {$e->getMessage()}", E_USER_WARNING);
        }
        return $caller === 'session_gc' ? $this->store->collect() : $this->store->collectIfDue();
    }

    /**
     * Sets the lifetime in seconds of the sessions this request writes from now on (null: the
     * `ttl` option, or for a session started by express-session with a cookie maxAge, what
     * remains of its stored expiry).
     */
    public function setLifetime(?int $seconds): void
    {
        $this->lifetime = $seconds;
    }

    /** The active session's state (metadata and pending changes). */
    public function state(): SessionState
    {
        $id = session_id();
        if (session_status() !== PHP_SESSION_ACTIVE || $id === false || $id === '') {
            throw new SessionPgsqlException(SessionPgsqlException::NO_SESSION, 'no active session (call session_start() first)');
        }
        return $this->states[$id] ??= $this->store->newState($id);
    }

    /** @return array<string, mixed> session_pgsql_info() */
    public function info(): array
    {
        return $this->state()->info();
    }

    public function getField(): ?string
    {
        return $this->state()->getField();
    }

    public function setField(?string $value): void
    {
        $this->state()->setField($value);
    }

    public function addError(string|int $level, ?string $message = null): void
    {
        $this->state()->addError($level, $message);
    }

    /** @return array{error: int, warning: int, notice: int, message?: ?string} */
    public function getError(bool $withMessage = false): array
    {
        return $this->state()->getError($withMessage);
    }

    /** @return array<string, mixed> session_pgsql_status() */
    public function status(): array
    {
        return $this->store->status();
    }

    /** session_pgsql_reset(): reconnects every server. */
    public function reset(): void
    {
        $this->store->reset();
    }

    private function sessionName(): string
    {
        return $this->store->options->name ?? $this->name;
    }

    private function address(): ?string
    {
        $address = $this->store->options->address;
        if ($address !== null) {
            $value = $address();
            return is_string($value) ? $value : null;
        }
        $remote = $_SERVER['REMOTE_ADDR'] ?? null;
        return is_string($remote) && $remote !== '' ? $remote : null;
    }

    /**
     * A session express-session created with a cookie maxAge keeps its stored expiry, as
     * express-session keeps it (the cookie's expiry does not move unless it is sent again);
     * every other session lives `ttl` seconds (session.gc_maxlifetime) from its last write.
     */
    private function lifetimeOf(?SessionState $state): ?int
    {
        if ($this->lifetime !== null) {
            return $this->lifetime;
        }
        $cookie = $_SESSION['cookie'] ?? null;
        $maxAge = is_array($cookie) ? ($cookie['originalMaxAge'] ?? null) : (is_object($cookie) ? ($cookie->originalMaxAge ?? null) : null);
        $remaining = $state?->remainingSeconds();
        if ((is_int($maxAge) || is_float($maxAge)) && $maxAge > 0 && $remaining !== null && $remaining > 0) {
            return (int) ceil($remaining);
        }
        return null;
    }
}
