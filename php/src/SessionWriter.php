<?php

declare(strict_types=1);

namespace SessionPgsql;

/**
 * Writes sessions without losing concurrent changes, as the Node store does
 * (src/store/session-writer.ts): a session this request read is updated only if it still
 * holds what was read (compare-and-set on the database's md5 of the data); when another
 * request changed it meanwhile, this request's changes are merged into theirs, key by key,
 * and written again. A session destroyed meanwhile stays destroyed.
 *
 * @internal
 */
final class SessionWriter
{
    public function __construct(
        private readonly SessionRouting $routing,
        private readonly SessionCodec $codec,
    ) {
    }

    /**
     * @param string|null $ours the data to merge with a concurrent write, as encoded;
     *                          null for a write of metadata only (the data stays theirs)
     */
    public function write(string $id, string $key, string $raw, ?string $ours, int $lifetime, ?string $address, string $name, ?SessionState $given): SessionState
    {
        return $this->routing->run($key, function (Route $route) use ($id, $key, $raw, $ours, $lifetime, $address, $name, $given): SessionState {
            if ($route->others !== []) {
                MoveHome::move($key, $route);
            }
            if ($route->failedOver) {
                $this->routing->mark($route);
            }
            $server = $route->target;
            $state = $given ?? new SessionState($id, $server);
            // What this request read, if it was read from the server written now.
            $snapshot = $state->server === $server ? $state->snapshot() : null;
            $base = $snapshot !== null && !$snapshot->expired ? $snapshot->raw : null;
            $insert = $base === null;
            $expected = $base === null ? null : $snapshot->md5;
            $text = $raw;
            for ($attempt = 1; ; $attempt++) {
                $c = $state->changes();
                $this->codec->checkSize($text, $c['custom'], $c['message']);
                $values = [
                    'key' => $key,
                    'name' => $name,
                    'data' => $text,
                    'lifetime' => $lifetime,
                    'address' => $address,
                    'error' => $c['error'],
                    'warning' => $c['warning'],
                    'notice' => $c['notice'],
                    'message' => $c['message'],
                    'customSet' => $c['customSet'],
                    'custom' => $c['custom'],
                ];
                $row = $insert
                    ? ($server->run('write', $values, 'write a session')['rows'][0] ?? null)
                    : ($server->run('update', [...$values, 'expected' => $expected], 'write a session')['rows'][0] ?? null);
                if ($row !== null) {
                    $state->written($row, Snapshot::of($text, $row, (int) ($row['sess_modified'] ?? 0), false));
                    return $state;
                }
                // The row no longer holds what this request read. Destroyed meanwhile (a
                // logout): it stays destroyed. Changed by another request: merge into theirs.
                $current = $server->run('read', ['key' => $key], 'read a session')['rows'][0] ?? null;
                if ($current === null || MoveHome::isTombstone($current)) {
                    return $state;
                }
                $theirs = $current['sess_data'];
                if ($current['expired'] || $theirs === null || $base === null) {
                    $insert = true; // expired meanwhile: the write starts the session anew
                    continue;
                }
                if ($attempt >= Statements::MAX_MERGE_ATTEMPTS) {
                    $expected = null; // too much contention: the last write wins (but never revives)
                    continue;
                }
                $expected = $current['sess_md5'];
                if ($ours === null) {
                    $text = $theirs; // a metadata-only write keeps the data the other request stored
                    continue;
                }
                $text = $this->codec->mergeEncoded($base, $ours, $theirs);
            }
        });
    }

    /** Extends a session's expiry; false when nothing was written. */
    public function touch(string $key, int $lifetime, int $skip, ?string $address): bool
    {
        return $this->routing->run($key, function (Route $route) use ($key, $lifetime, $skip, $address): bool {
            if ($route->others !== []) {
                MoveHome::move($key, $route);
            }
            $touched = $route->target->run(
                'touch',
                ['key' => $key, 'lifetime' => $lifetime, 'skip' => $skip, 'address' => $address],
                'touch a session',
            );
            return $touched['affected'] > 0;
        });
    }

    /** Deletes a session on its target and every server that may hold a copy. */
    public function destroy(string $key): void
    {
        $this->routing->run($key, function (Route $route) use ($key): void {
            if ($route->failedOver) {
                $route->target->run('tombstone', ['key' => $key], 'record a destroyed session');
                $this->routing->mark($route);
            } else {
                $route->target->run('destroy', ['key' => $key], 'destroy a session');
            }
            foreach ($route->others as $other) {
                try {
                    $other->run('destroy', ['key' => $key], 'destroy a copy');
                } catch (SessionPgsqlException) {
                    // its marker makes the next read look there again
                }
            }
        });
    }
}
