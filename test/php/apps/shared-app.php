<?php

// The PHP half of one application whose other half is Express (test/php/shared-session.test.ts),
// run by PHP's built-in web server: it shares express-session's signed cookie and the
// session table. Settings come from the environment: SESSION_DB, SESSION_TABLE, SESSION_SECRET.
//
//   GET  /whoami             the session: { id, user, data (without express-session's cookie), info }
//   POST /login?user=...     a new session id (regenerated) with the user in it
//   POST /set?key=..&value=  sets a session variable
//   POST /field?value=...    session_pgsql_set_field()
//   POST /logout             destroys the session

declare(strict_types=1);

require __DIR__ . '/../../../php/autoload.php';

use SessionPgsql\ExpressSessionCookie;
use SessionPgsql\PgsqlSessionHandler;

header('Content-Type: application/json');
try {
    PgsqlSessionHandler::register([
        'db' => getenv('SESSION_DB'),
        'table' => getenv('SESSION_TABLE'),
        'gcInterval' => 0,
    ]);
    $cookie = new ExpressSessionCookie(getenv('SESSION_SECRET'));
    $cookie->start();
    $path = parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH);
    $method = $_SERVER['REQUEST_METHOD'];
    if ($method === 'POST' && $path === '/login') {
        $cookie->regenerate();
        $_SESSION['user'] = (string) $_GET['user'];
    } elseif ($method === 'POST' && $path === '/set') {
        $_SESSION[(string) $_GET['key']] = (string) $_GET['value'];
    } elseif ($method === 'POST' && $path === '/field') {
        session_pgsql_set_field((string) $_GET['value']);
    } elseif ($method === 'POST' && $path === '/logout') {
        $cookie->destroy();
        echo json_encode(['ok' => true]);
        return;
    } elseif (!($method === 'GET' && $path === '/whoami')) {
        http_response_code(404);
        echo json_encode(['error' => "no route {$method} {$path}"]);
        return;
    }
    $data = $_SESSION;
    unset($data['cookie']);
    echo json_encode([
        'id' => session_id(),
        'user' => $_SESSION['user'] ?? null,
        'data' => (object) $data,
        'info' => session_pgsql_info(),
    ]);
} catch (Throwable $e) {
    http_response_code(500);
    echo json_encode([
        'code' => $e instanceof SessionPgsql\SessionPgsqlException ? $e->errorCode : null,
        'message' => $e->getMessage(),
    ]);
}
