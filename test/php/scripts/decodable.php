<?php

// For each input (JSON list on stdin, plus PHP's own encodings of many values and every
// truncation and one-byte change of them, objects aside: a class's own __unserialize may
// refuse data that is well formed): what SerializedText::decodable() says, and whether
// session_decode() really reads it. Prints [[kind, input (base64), decodable, decoded], ...]
// where kind is given, encoded (by PHP) or mutated.

declare(strict_types=1);

require __DIR__ . '/../../../php/autoload.php';

use SessionPgsql\SerializedText;

final class MemoryHandler implements SessionHandlerInterface
{
    public function open(string $path, string $name): bool { return true; }
    public function close(): bool { return true; }
    public function read(string $id): string|false { return ''; }
    public function write(string $id, string $data): bool { return true; }
    public function destroy(string $id): bool { return true; }
    public function gc(int $max): int|false { return 0; }
}

enum Suit: string { case Hearts = 'h'; }

$handler = $argv[1];
ini_set('session.serialize_handler', $handler);
ini_set('session.use_cookies', '0');
session_set_save_handler(new MemoryHandler(), true);
$given = json_decode((string) stream_get_contents(STDIN), true, 512, JSON_THROW_ON_ERROR);
$inputs = array_map(fn (string $input) => ['given', $input], $given);

$values = [
    ['a' => 1], ['s' => "quote\" and | bar", 'n' => null, 'f' => -1.5e-7, 'inf' => INF, 'b' => false],
    ['list' => [1, [2, [3, ['x' => 'y']]]], 'obj' => (object) ['p' => 1, 'q' => [true]]],
    ['enum' => Suit::Hearts, 'big' => PHP_INT_MAX, 'neg' => PHP_INT_MIN],
    ['unicode' => 'é日本🔑', 'empty' => '', 'zero' => 0.0, 'nan' => NAN],
];
$objects = [['date' => new DateTimeImmutable('@0'), 'e' => new ArrayObject([1])]];
session_start();
foreach ($objects as $value) {
    $_SESSION = $value;
    $inputs[] = ['encoded', session_encode()];
}
foreach ($values as $value) {
    $_SESSION = $value;
    $encoded = session_encode();
    $inputs[] = ['encoded', $encoded];
    for ($i = 0; $i < strlen($encoded); $i++) {
        $inputs[] = ['mutated', substr($encoded, 0, $i)];
        foreach (['0', '9', ':', ';', '"', '{', '}', '|', 'a', 's', 'N', "\x80"] as $c) {
            $inputs[] = ['mutated', substr_replace($encoded, $c, $i, 1)];
        }
    }
}
session_write_close();

$out = [];
foreach ($inputs as [$kind, $input]) {
    $decodable = SerializedText::decodable($input, $handler);
    if (session_status() !== PHP_SESSION_ACTIVE) {
        session_start();
    }
    $_SESSION = [];
    try {
        $decoded = @session_decode($input);
    } catch (Throwable) {
        $decoded = false;
    }
    $out[] = [$kind, base64_encode($input), $decodable, $decoded];
}
echo json_encode($out, JSON_THROW_ON_ERROR), "\n";
