/**
 * The PHP handler's SQL is the Node store's: php/src/Statements.php is generated from
 * src/sql/ (scripts/php-statements.ts), and this fails as soon as the committed file is not
 * what the TypeScript sources give. Also: every PHP file parses, and composer.json's PSR-4
 * autoload finds every class, as Composer would.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { renderPhpStatements, STATEMENTS_FILE } from '../../scripts/php-statements.js';
import { runPhp } from '../helpers/php.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const phpDir = join(root, 'php');

function phpFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.php'))
    .map((file) => join(dir, file));
}

describe('the PHP handler', () => {
  it(`${STATEMENTS_FILE} is what scripts/php-statements.ts makes from src/sql/ (npm run php:statements)`, () => {
    const committed = readFileSync(join(root, STATEMENTS_FILE), 'utf8');
    assert.ok(
      committed === renderPhpStatements(),
      `${STATEMENTS_FILE} is out of date: run \`npm run php:statements\` and commit it`,
    );
  });

  it('runs the Node statements: every statement of Statements.php names the table and binds its parameters', async () => {
    const { stdout } = await runPhp({
      code: `require '${join(phpDir, 'autoload.php')}';
        $out = [];
        foreach (SessionPgsql\\Statements::STATEMENTS as $kind => $variants) {
          foreach ($variants as $variant => [$text, $params]) {
            $sql = SessionPgsql\\Statements::TEXTS[$text];
            preg_match_all('/\\$(\\d+)/', $sql, $m);
            $out[] = [$kind, $variant, str_contains($sql, SessionPgsql\\Statements::TABLE), count($params), max(array_map('intval', $m[1] ?: ['0']))];
          }
        }
        echo json_encode($out);`,
    });
    const rows = JSON.parse(stdout) as [string, string, boolean, number, number][];
    assert.ok(rows.length >= 15 * 6, `${rows.length} statements`);
    for (const [kind, variant, namesTable, params, highest] of rows) {
      if (kind !== 'ping') assert.ok(namesTable, `${kind} ${variant} names the table`);
      assert.equal(highest, params, `${kind} ${variant}: $1..$${highest} for ${params} parameters`);
    }
  });

  it('parses in PHP 8 (php -l), every file', async () => {
    const files = [...phpFiles(phpDir), ...phpFiles(join(root, 'test', 'php'))];
    assert.ok(files.length > 20, files.join(', '));
    for (const file of files) {
      const { stdout } = await runPhp({ file: '-l', args: [file] });
      assert.match(stdout, /No syntax errors/, file);
    }
  });

  it("loads every class through composer.json's PSR-4 autoload, as Composer does", async () => {
    const composer = JSON.parse(readFileSync(join(phpDir, 'composer.json'), 'utf8')) as {
      autoload: { 'psr-4': Record<string, string>; files: string[] };
      require: Record<string, string>;
    };
    assert.deepEqual(Object.keys(composer.autoload['psr-4']), ['SessionPgsql\\']);
    assert.equal(composer.require.php, '>=8.2');
    const { stdout } = await runPhp({
      code: `$composer = json_decode(file_get_contents('${join(phpDir, 'composer.json')}'), true);
        foreach ($composer['autoload']['psr-4'] as $prefix => $dir) {
          spl_autoload_register(function ($class) use ($prefix, $dir) {
            if (str_starts_with($class, $prefix)) {
              $file = '${phpDir}/' . $dir . str_replace('\\\\', '/', substr($class, strlen($prefix))) . '.php';
              if (is_file($file)) require $file;
            }
          });
        }
        foreach ($composer['autoload']['files'] as $file) require '${phpDir}/' . $file;
        $classes = [];
        foreach (glob('${phpDir}/src/*.php') as $file) {
          $name = basename($file, '.php');
          if ($name === 'functions') continue;
          $class = 'SessionPgsql\\\\' . $name;
          $classes[$class] = class_exists($class) || interface_exists($class);
        }
        echo json_encode(['classes' => $classes, 'functions' => function_exists('session_pgsql_info')]);`,
    });
    const loaded = JSON.parse(stdout) as { classes: Record<string, boolean>; functions: boolean };
    assert.ok(Object.keys(loaded.classes).length > 15);
    assert.deepEqual(
      Object.entries(loaded.classes).filter(([, ok]) => !ok),
      [],
      'classes PSR-4 does not find',
    );
    assert.equal(loaded.functions, true, "session_pgsql_* functions from composer.json's files");
  });

  it('is published in the npm package (package.json "files")', () => {
    const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      files: string[];
    };
    assert.ok(manifest.files.includes('php'));
  });
});
