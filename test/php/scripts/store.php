<?php

// Many operations on the PHP side's core (SessionStore) in one process, for the tests that
// need many sessions: reads JSON { options, ops: [[op, id, data?]] } on stdin, op one of
// write, read, destroy, handBack (id ignored); prints one result per op: { data } | { written } | { error }.

declare(strict_types=1);

require __DIR__ . '/../../../php/autoload.php';

use SessionPgsql\SessionPgsqlException;
use SessionPgsql\SessionStore;

$spec = json_decode((string) stream_get_contents(STDIN), true, 512, JSON_THROW_ON_ERROR);
$store = new SessionStore($spec['options']);
$states = [];
$results = [];
foreach ($spec['ops'] as [$op, $id, $data]) {
    try {
        $results[] = match ($op) {
            'read' => (function () use ($store, $id, &$states) {
                $loaded = $store->read($id);
                $states[$id] = $loaded['state'] ?? null;
                return ['data' => $loaded['data'] ?? null, 'server' => $loaded['state']?->server->index];
            })(),
            'write' => ['written' => $store->write($id, $data, $states[$id] ?? null, null, null, 'PHPSESSID')],
            'handBack' => ['looked' => $store->handBack()],
            'destroy' => (function () use ($store, $id) {
                $store->destroy($id);
                return ['destroyed' => true];
            })(),
            default => throw new LogicException("unknown op {$op}"),
        };
    } catch (SessionPgsqlException $e) {
        $results[] = ['error' => $e->errorCode, 'message' => $e->getMessage()];
    }
}
echo json_encode($results, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES), "\n";
