<?php

declare(strict_types=1);

// For installs without Composer (e.g. from the npm package: node_modules/session-pgsql/php):
// require this file. With Composer, composer.json's PSR-4 autoload does the same.

spl_autoload_register(static function (string $class): void {
    $prefix = 'SessionPgsql\\';
    if (str_starts_with($class, $prefix)) {
        $file = __DIR__ . '/src/' . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
        if (is_file($file)) {
            require $file;
        }
    }
});

require_once __DIR__ . '/src/functions.php';
