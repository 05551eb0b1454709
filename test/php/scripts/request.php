<?php

// One PHP request on a session, driven by the tests: reads a JSON spec on stdin, runs the
// real session module with PgsqlSessionHandler, and prints what happened as JSON.
//
// spec: { options: handler options, ini?: {name: value}, server?: {$_SERVER entries},
//         id?: session id to resume,
//         steps: [ [name, ...args] ] } where a step is one of
//   ["start"], ["set", key, value], ["unset", key], ["setField", value], ["addError", level, message?],
//   ["info"], ["getField"], ["getError", withMessage], ["status"], ["destroy"], ["regenerate", deleteOld],
//   ["gc"], ["sessionGc"], ["collect"], ["close"], ["abort"], ["run", file] (includes a PHP file),
//   ["spawn", spec] (runs another request to completion, with this script, and returns its output),
//   ["sql", text, params] (runs SQL on the database directly, as another application would),
//   ["sharedObject", value] (stores one object under two names: PHP serializes a reference)
// output: { id, data, results: [...], error: {class, code, message} | null }

declare(strict_types=1);

require __DIR__ . '/../../../php/autoload.php';

use SessionPgsql\PgsqlSessionHandler;
use SessionPgsql\SessionPgsqlException;

$spec = json_decode((string) stream_get_contents(STDIN), true, 512, JSON_THROW_ON_ERROR);
foreach ($spec['ini'] ?? [] as $name => $value) {
    ini_set($name, (string) $value);
}
foreach ($spec['server'] ?? [] as $name => $value) {
    $_SERVER[$name] = $value;
}
$results = [];
$error = null;
try {
    $handler = PgsqlSessionHandler::register($spec['options'] ?? []);
    if (isset($spec['id'])) {
        session_id($spec['id']);
    }
    foreach ($spec['steps'] ?? [['start']] as $step) {
        $name = array_shift($step);
        $results[] = match ($name) {
            'start' => session_start(),
            'set' => $_SESSION[$step[0]] = $step[1],
            'unset' => (function () use ($step) { unset($_SESSION[$step[0]]); return true; })(),
            'setField' => session_pgsql_set_field($step[0]),
            'addError' => session_pgsql_add_error($step[0], $step[1] ?? null),
            'info' => session_pgsql_info(),
            'getField' => session_pgsql_get_field(),
            'getError' => session_pgsql_get_error($step[0] ?? false),
            'status' => session_pgsql_status(),
            'destroy' => session_destroy(),
            'regenerate' => session_regenerate_id($step[0] ?? false),
            'gc' => $handler->gc((int) ini_get('session.gc_maxlifetime')),
            'sessionGc' => session_gc(),
            'collect' => $handler->store->collect(),
            'write' => $_SESSION = $step[0], // replaces the whole session
            'close' => session_write_close(),
            'abort' => session_abort(),
            'id' => session_id(),
            'ini' => ini_set($step[0], (string) $step[1]),
            'spawn' => spawn($step[0]),
            'sql' => (bool) pg_query_params(pg_connect($spec['options']['db'], PGSQL_CONNECT_FORCE_NEW), $step[0], $step[1] ?? []),
            'sharedObject' => (function () use ($step) {
                $object = (object) ['v' => $step[0]];
                $_SESSION['first'] = $object;
                $_SESSION['second'] = $object; // one object twice: serialized with a reference
                return true;
            })(),
            default => throw new LogicException("unknown step {$name}"),
        };
    }
} catch (Throwable $e) {
    $error = [
        'class' => get_class($e),
        'code' => $e instanceof SessionPgsqlException ? $e->errorCode : null,
        'sqlState' => $e instanceof SessionPgsqlException ? $e->sqlState : null,
        'message' => $e->getMessage(),
    ];
}
$output = ['id' => session_id(), 'data' => isset($_SESSION) ? (object) $_SESSION : null, 'results' => $results, 'error' => $error];
if (session_status() === PHP_SESSION_ACTIVE) {
    try {
        session_write_close();
    } catch (Throwable $e) {
        $output['error'] ??= [
            'class' => get_class($e),
            'code' => $e instanceof SessionPgsqlException ? $e->errorCode : null,
            'sqlState' => $e instanceof SessionPgsqlException ? $e->sqlState : null,
            'message' => $e->getMessage(),
        ];
    }
}
echo json_encode($output, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES), "\n";

/** Runs another request (another PHP process) to completion while this one is open. */
function spawn(array $spec): mixed
{
    $process = proc_open([PHP_BINARY, '-d', 'display_errors=stderr', __FILE__], [0 => ['pipe', 'r'], 1 => ['pipe', 'w']], $pipes);
    fwrite($pipes[0], json_encode($spec, JSON_THROW_ON_ERROR));
    fclose($pipes[0]);
    $out = stream_get_contents($pipes[1]);
    fclose($pipes[1]);
    proc_close($process);
    return json_decode((string) $out, true);
}
