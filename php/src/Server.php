<?php

declare(strict_types=1);

namespace SessionPgsql;

/**
 * One PostgreSQL server of `db`: its connection (opened on first use), its table (created on
 * first use when missing), its health during this request, and the statement counts that
 * `status()` shows. Every statement goes through `run`, with the Node store's limits: the
 * server ends a statement after `queryTimeoutMillis` (`statement_timeout`) or a wait for a
 * locked row after half of it (`lock_timeout`); the handler gives up on a server that does
 * not answer at all a little later.
 *
 * @internal
 */
final class Server
{
    /** Names the server in placement and failover markers: its connection string, password hidden. */
    public readonly string $id;
    private ?\PgSql\Connection $connection = null;
    private ?bool $up = null;
    private ?string $lastError = null;
    private ?float $latencyMillis = null;
    /** @var array<string, int> */
    private array $counts = [];
    /** False once a pooler (PgBouncer) refused the timeouts as startup parameters. */
    private bool $startupSettings = true;
    /** @var list<string>|null homes (server ids) whose sessions this server holds, from its markers */
    private ?array $foreignHomes = null;

    /** SQLSTATEs of a server that cannot be reached now (as src/errors.ts). */
    private const CONNECTION_SQLSTATE = '/^(08|57P0[1-4]|53300)/';

    public function __construct(
        public readonly int $index,
        #[\SensitiveParameter] private readonly string $conninfo,
        private readonly Options $options,
        private readonly StatementSet $statements,
        /** This request's id in notifications: Node's caches drop what other instances changed. */
        private readonly string $instance,
    ) {
        $this->id = Conninfo::redact($conninfo);
    }

    /** False once a statement failed to reach the server during this request. */
    public function available(): bool
    {
        return $this->up !== false;
    }

    /**
     * Runs one of the store's statements with values by name.
     *
     * @param array<string, mixed> $values
     * @return array{rows: list<array<string, mixed>>, affected: int}
     */
    public function run(string $kind, array $values, string $action): array
    {
        $started = hrtime(true);
        $params = $this->statements->bind($kind, $values + ['instance' => $this->instance]);
        try {
            try {
                $result = $this->execute($this->statements->text($kind), $params, $action);
            } catch (SessionPgsqlException $e) {
                if ($e->sqlState !== '42P01') {
                    throw $e;
                }
                $this->setUpTable(); // the table is missing (or was dropped): once, then again
                $result = $this->execute($this->statements->text($kind), $params, $action);
            }
        } catch (SessionPgsqlException $e) {
            $this->lastError = $e->getMessage();
            if ($e->errorCode === SessionPgsqlException::DB_UNREACHABLE) {
                $this->up = false;
                $this->close();
            }
            throw $e;
        }
        $this->counts[$kind] = ($this->counts[$kind] ?? 0) + 1;
        $this->latencyMillis = (hrtime(true) - $started) / 1e6;
        $this->up = true;
        $this->lastError = null;
        return $result;
    }

    /**
     * The homes whose sessions this server holds (its failover markers), read once per
     * request; none when it cannot be reached.
     *
     * @param list<string> $serverIds
     * @return list<string>
     */
    public function foreignHomes(array $serverIds): array
    {
        if ($this->foreignHomes === null) {
            $this->foreignHomes = [];
            if (!$this->available()) {
                return [];
            }
            $markers = array_map(fn (string $id) => Statements::FOREIGN_MARKER_PREFIX . $id, $serverIds);
            try {
                $rows = $this->run('markers', ['markers' => $markers], 'read failover markers')['rows'];
            } catch (SessionPgsqlException) {
                return []; // its health now says down
            }
            $prefix = strlen(Statements::FOREIGN_MARKER_PREFIX);
            $this->foreignHomes = array_map(fn (array $r) => substr((string) $r['sess_id'], $prefix), $rows);
        }
        return $this->foreignHomes;
    }

    /** Records that this server now holds a session of `$homeId` (after writing its marker). */
    public function addForeignHome(string $homeId): void
    {
        $this->foreignHomes = array_values(array_unique([...($this->foreignHomes ?? []), $homeId]));
    }

    /** @return array<string, mixed> as the Node store's ServerStatus */
    public function status(): array
    {
        $sessions = null;
        try {
            $sessions = (int) ($this->run('count', [], 'count sessions')['rows'][0]['count'] ?? 0);
        } catch (SessionPgsqlException) {
            // reported through up and lastError
        }
        return [
            'index' => $this->index,
            'connection' => $this->id,
            'up' => $this->up,
            'lastError' => $this->lastError,
            'latencyMillis' => $this->latencyMillis === null ? null : round($this->latencyMillis, 2),
            'sessions' => $sessions,
            'statements' => $this->counts,
        ];
    }

    /** Closes the connection (a persistent one stays open for the next request). */
    public function close(): void
    {
        if ($this->connection !== null && !$this->options->persistent) {
            @pg_close($this->connection);
        }
        $this->connection = null;
    }

    /** session_pgsql_reset(): a new connection, and the server counted as up again. */
    public function reset(): void
    {
        if ($this->connection !== null && $this->options->persistent) {
            @pg_connection_reset($this->connection);
        }
        $this->close();
        $this->up = null;
        $this->lastError = null;
        $this->foreignHomes = null;
    }

    private function setUpTable(): void
    {
        $display = $this->options->table->quoted;
        if (!$this->options->createTable) {
            throw new SessionPgsqlException(
                SessionPgsqlException::TABLE_SETUP_FAILED,
                "the session table {$display} does not exist and createTable is false",
            );
        }
        try {
            $this->execute($this->statements->createTable, null, "create the session table {$display}");
        } catch (SessionPgsqlException $e) {
            if ($e->errorCode === SessionPgsqlException::DB_UNREACHABLE) {
                throw $e;
            }
            throw new SessionPgsqlException(SessionPgsqlException::TABLE_SETUP_FAILED, $e->getMessage(), $e, $e->sqlState);
        }
    }

    /**
     * @param list<?string>|null $params null: a script of several statements, without parameters
     * @return array{rows: list<array<string, mixed>>, affected: int}
     */
    private function execute(string $text, ?array $params, string $action): array
    {
        $connection = $this->connect($action);
        $sent = $params === null
            ? @pg_send_query($connection, $text)
            : @pg_send_query_params($connection, $text, $params);
        if ($sent === false) {
            $message = self::lastLine(pg_last_error($connection));
            $this->close();
            throw self::unreachable($action, $message !== '' ? $message : 'the connection was lost');
        }
        $this->await($connection, $action);
        $result = pg_get_result($connection);
        while (($more = pg_get_result($connection)) !== false) {
            if (pg_result_status($more) === PGSQL_FATAL_ERROR) {
                $result = $more; // a script: the statement that failed
            }
        }
        if ($result === false || pg_connection_status($connection) === PGSQL_CONNECTION_BAD) {
            $message = self::lastLine(pg_last_error($connection));
            $this->close();
            throw self::unreachable($action, $message !== '' ? $message : 'the connection was lost');
        }
        $status = pg_result_status($result);
        if ($status === PGSQL_FATAL_ERROR || $status === PGSQL_BAD_RESPONSE) {
            $sqlState = pg_result_error_field($result, PGSQL_DIAG_SQLSTATE);
            $message = pg_result_error_field($result, PGSQL_DIAG_MESSAGE_PRIMARY);
            throw self::answered($action, is_string($message) ? $message : 'error', is_string($sqlState) ? $sqlState : null);
        }
        $rows = pg_fetch_all($result, PGSQL_ASSOC);
        return ['rows' => array_map(self::typed(...), $rows), 'affected' => pg_affected_rows($result)];
    }

    /** Waits for the answer; a server that stays silent past the statement's limit is unreachable. */
    private function await(\PgSql\Connection $connection, string $action): void
    {
        $timeout = $this->options->queryTimeoutMillis;
        $grace = min(1000, max(100, intdiv($timeout, 2)));
        $deadline = hrtime(true) + ($timeout + $grace) * 1_000_000;
        $socket = pg_socket($connection);
        while (pg_connection_busy($connection)) {
            $left = $deadline - hrtime(true);
            if ($left <= 0) {
                $this->close();
                throw self::unreachable($action, 'the server did not answer within ' . ($timeout + $grace) . ' ms');
            }
            $read = [$socket];
            $write = null;
            $except = null;
            @stream_select($read, $write, $except, intdiv($left, 1_000_000_000), intdiv($left % 1_000_000_000, 1000));
            if (!pg_consume_input($connection)) {
                break; // the connection broke: pg_get_result tells
            }
        }
    }

    private function connect(string $action): \PgSql\Connection
    {
        if ($this->connection !== null) {
            if (pg_connection_status($this->connection) === PGSQL_CONNECTION_OK) {
                return $this->connection;
            }
            $this->close();
        }
        $o = $this->options;
        $settings = [
            'connect_timeout' => (string) max(1, (int) ceil($o->connectTimeoutMillis / 1000)),
            'client_encoding' => 'UTF8',
        ];
        if ($this->startupSettings) {
            $lock = max(1, intdiv($o->queryTimeoutMillis, 2));
            $settings['options'] = "-c statement_timeout={$o->queryTimeoutMillis} -c lock_timeout={$lock}";
        }
        $message = '';
        set_error_handler(function (int $_level, string $text) use (&$message): bool {
            $message = $text;
            return true;
        });
        try {
            $conninfo = Conninfo::withSettings($this->conninfo, $settings);
            $connection = $o->persistent
                ? pg_pconnect($conninfo)
                : pg_connect($conninfo, PGSQL_CONNECT_FORCE_NEW);
        } finally {
            restore_error_handler();
        }
        if ($connection instanceof \PgSql\Connection && pg_connection_status($connection) === PGSQL_CONNECTION_OK) {
            $this->connection = $connection;
            return $connection;
        }
        $message = preg_replace('/^pg_p?connect\(\): (Unable to connect to PostgreSQL server: )?/', '', $message) ?? $message;
        if ($this->startupSettings && preg_match('/unsupported startup parameter/i', $message) === 1) {
            $this->startupSettings = false; // PgBouncer: the role's own settings apply
            return $this->connect($action);
        }
        $message = self::lastLine($message);
        // The server answered (a refused login, no such database): an answer, not an outage.
        $answered = preg_match('/FATAL:/', $message) === 1
            && preg_match('/starting up|shutting down|too many|connection slots|recovery mode/i', $message) !== 1;
        if ($answered) {
            throw new SessionPgsqlException(
                SessionPgsqlException::DB_QUERY_FAILED,
                "PostgreSQL refused to {$action}: {$message}",
            );
        }
        $this->up = false;
        throw self::unreachable($action, $message !== '' ? $message : 'cannot connect');
    }

    private static function unreachable(string $action, string $message): SessionPgsqlException
    {
        return new SessionPgsqlException(
            SessionPgsqlException::DB_UNREACHABLE,
            "cannot reach PostgreSQL to {$action}: {$message}",
        );
    }

    /** An error PostgreSQL answered with, coded as src/errors.ts codes it. */
    private static function answered(string $action, string $message, ?string $sqlState): SessionPgsqlException
    {
        if ($sqlState === '55P03') {
            return new SessionPgsqlException(
                SessionPgsqlException::SESSION_LOCKED,
                "PostgreSQL could not {$action}: another transaction holds the session's row locked ({$message}, SQLSTATE {$sqlState})",
                null,
                $sqlState,
            );
        }
        if ($sqlState !== null && preg_match(self::CONNECTION_SQLSTATE, $sqlState) === 1) {
            return new SessionPgsqlException(
                SessionPgsqlException::DB_UNREACHABLE,
                "cannot reach PostgreSQL to {$action}: {$message} (SQLSTATE {$sqlState})",
                null,
                $sqlState,
            );
        }
        return new SessionPgsqlException(
            SessionPgsqlException::DB_QUERY_FAILED,
            "PostgreSQL refused to {$action}: {$message}" . ($sqlState === null ? '' : " (SQLSTATE {$sqlState})"),
            null,
            $sqlState,
        );
    }

    /** libpq's messages span lines ("connection to server ... failed: FATAL: ..."): one line. */
    private static function lastLine(string $message): string
    {
        return trim((string) preg_replace('/\s+/', ' ', $message));
    }

    private const INTEGERS = [
        'sess_created', 'sess_modified', 'sess_expire', 'sess_counter', 'sess_error', 'sess_warning',
        'sess_notice', 'now', 'count',
    ];
    private const BOOLEANS = ['expired', 'exists'];

    /**
     * @param array<string, ?string> $row
     * @return array<string, mixed>
     */
    private static function typed(array $row): array
    {
        foreach ($row as $column => $value) {
            if ($value === null) {
                continue;
            }
            if (in_array($column, self::INTEGERS, true)) {
                $row[$column] = (int) $value;
            } elseif (in_array($column, self::BOOLEANS, true)) {
                $row[$column] = $value === 't';
            }
        }
        return $row;
    }

    /** @return array<string, mixed> what var_dump and print_r show: no connection string */
    public function __debugInfo(): array
    {
        return ['index' => $this->index, 'id' => $this->id, 'up' => $this->up, 'lastError' => $this->lastError];
    }
}
