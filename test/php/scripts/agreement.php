<?php

// What the PHP handler computes from given inputs (read as JSON on stdin), for the tests to
// compare with what the Node store computes: stored keys, placement, server names, table
// names and index names, the notification channel, express-session's cookie signature.

declare(strict_types=1);

require __DIR__ . '/../../../php/autoload.php';

use SessionPgsql\Conninfo;
use SessionPgsql\ExpressSessionCookie;
use SessionPgsql\Rendezvous;
use SessionPgsql\SessionIds;
use SessionPgsql\StatementSet;
use SessionPgsql\TableName;

$input = json_decode((string) stream_get_contents(STDIN), true, 512, JSON_THROW_ON_ERROR);
$ids = new SessionIds($input['idPattern'] ?? SessionPgsql\Statements::ID_PATTERN, true);
$rendezvous = new Rendezvous($input['servers']);
$tables = [];
foreach ($input['tables'] as $table) {
    try {
        $name = TableName::parse($table);
        $tables[] = [
            'quoted' => $name->quoted,
            'index' => $name->indexName(),
            'lock' => TableName::lockKey($name->quoted),
            'channel' => (new StatementSet($name, false, 'digests'))->channel,
        ];
    } catch (SessionPgsql\SessionPgsqlException $e) {
        $tables[] = ['error' => $e->errorCode];
    }
}
echo json_encode([
    'keys' => array_map(fn (string $id) => $ids->key($id), $input['ids']),
    'ranks' => array_map(fn (string $key) => $rendezvous->rank($key), $input['keys']),
    'redacted' => array_map(Conninfo::redact(...), $input['conninfos']),
    'split' => array_map(Conninfo::split(...), $input['lists']),
    'tables' => $tables,
    'signed' => array_map(fn (array $p) => ExpressSessionCookie::sign($p[0], $p[1]), $input['signed']),
    'unsigned' => array_map(fn (array $p) => ExpressSessionCookie::unsign($p[0], $p[1]), $input['unsigned']),
], JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE), "\n";
