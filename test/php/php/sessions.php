<?php
/**
 * The PHP side of the tests of PHP's session formats.
 *   php sessions.php encode  prints {handler: {case: text}} for php, php_serialize,
 *                            php_binary (session_encode) and serialize (serialize()).
 *   php sessions.php decode  reads [{handler, text, set, name, change}] on stdin and
 *                            prints, for each, whether PHP reads the text (session_decode
 *                            or unserialize) as the named case of `set` (php or node)
 *                            after `change`: [{read, same, decoded, expected, warnings,
 *                            error}].
 *   php sessions.php reencode reads [{handler, text}] and prints what PHP writes again after
 *                            reading each text (null where it cannot read it).
 *   php sessions.php floats  reads doubles as hex and prints serialize() of each.
 * Values are compared by serialize() (types, classes, references) and shown with print_r.
 */
error_reporting(E_ALL & ~E_DEPRECATED);
/** Warnings and notices are errors, except while decoding: session_decode() says with its result. */
$warnings = null;
set_error_handler(function (int $level, string $message) use (&$warnings): bool {
    if (!(error_reporting() & $level)) {
        return false;
    }
    if (is_array($warnings)) {
        $warnings[] = $message;
        return true;
    }
    throw new ErrorException($message, 0, $level);
});
require __DIR__ . '/cases.php';

/** Session storage that keeps nothing: only session_encode() and session_decode() are used. */
class NoStorage implements SessionHandlerInterface
{
    public function open(string $path, string $name): bool { return true; }
    public function close(): bool { return true; }
    public function read(string $id): string|false { return ''; }
    public function write(string $id, string $data): bool { return true; }
    public function destroy(string $id): bool { return true; }
    public function gc(int $max): int|false { return 0; }
}

ini_set('session.use_cookies', '0');
ini_set('session.cache_limiter', '');
session_set_save_handler(new NoStorage(), false);
session_id('phptests');

const HANDLERS = ['php', 'php_serialize', 'php_binary'];

function with_session(string $handler, callable $work): mixed
{
    ini_set('session.serialize_handler', $handler);
    session_start();
    try {
        return $work();
    } finally {
        session_abort();
    }
}

function encode(): array
{
    $out = [];
    foreach (HANDLERS as $handler) {
        $cases = php_cases() + ($handler === 'php_serialize' ? php_serialize_cases() : []);
        foreach ($cases as $name => $case) {
            $text = with_session($handler, function () use ($case) {
                $_SESSION = $case;
                return session_encode();
            });
            // PHP encodes an empty session as false with php and php_binary, and stores ''.
            if ($text === false && $case !== []) {
                throw new Error("session_encode() failed for $handler $name");
            }
            $out[$handler][$name] = $text === false ? '' : $text;
        }
    }
    foreach (php_cases() + php_serialize_cases() as $name => $case) {
        $out['serialize'][$name] = serialize($case);
    }
    return $out;
}

function decode(array $request): array
{
    global $warnings;
    ['handler' => $handler, 'text' => $text, 'set' => $set, 'name' => $name] = $request;
    $cases = $set === 'node' ? node_cases() : php_cases() + php_serialize_cases();
    $expected = $cases[$name];
    apply_change($request['change'] ?? 'none', $expected);
    $warnings = [];
    try {
        if ($handler === 'serialize') {
            $decoded = unserialize($text);
            $read = $decoded !== false || $text === serialize(false);
        } else {
            [$read, $decoded] = with_session($handler, function () use ($text) {
                $_SESSION = [];
                $read = session_decode($text);
                return [$read, $_SESSION];
            });
        }
    } catch (Throwable $e) {
        return ['read' => false, 'same' => false, 'error' => $e->getMessage()];
    } finally {
        $seen = $warnings;
        $warnings = null;
    }
    return [
        'read' => $read,
        'warnings' => $seen,
        'same' => $read && serialize($decoded) === serialize($expected),
        'decoded' => print_r($decoded, true),
        'expected' => print_r($expected, true),
    ];
}

/** Reads each text with its handler and writes it again: [{handler, text}] -> [text|null]. */
function reencode(array $request): ?string
{
    ['handler' => $handler, 'text' => $text] = $request;
    if ($handler === 'serialize') {
        $value = unserialize($text);
        return $value === false && $text !== serialize(false) ? null : serialize($value);
    }
    return with_session($handler, function () use ($text) {
        $_SESSION = [];
        if (!session_decode($text)) {
            return null;
        }
        $encoded = session_encode();
        return $encoded === false ? '' : $encoded;
    });
}

/** serialize() of doubles given as 16 hex digits (big-endian IEEE 754). */
function floats(array $hex): array
{
    return array_map(fn (string $bits) => serialize(unpack('E', hex2bin($bits))[1]), $hex);
}

$mode = $argv[1] ?? '';
if ($mode === 'encode') {
    echo json_encode(encode(), JSON_THROW_ON_ERROR);
} elseif ($mode === 'decode') {
    $requests = json_decode(stream_get_contents(STDIN), true, 512, JSON_THROW_ON_ERROR);
    echo json_encode(array_map('decode', $requests), JSON_THROW_ON_ERROR | JSON_INVALID_UTF8_SUBSTITUTE);
} elseif ($mode === 'reencode' || $mode === 'floats') {
    $input = json_decode(stream_get_contents(STDIN), true, 512, JSON_THROW_ON_ERROR);
    $result = $mode === 'floats' ? floats($input) : array_map('reencode', $input);
    echo json_encode($result, JSON_THROW_ON_ERROR);
} else {
    fwrite(STDERR, "usage: php sessions.php encode|decode|reencode|floats\n");
    exit(2);
}
