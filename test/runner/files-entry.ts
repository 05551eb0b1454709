/**
 * Several test files in one process (`node --import tsx files-entry.ts a.test.ts b.test.ts`):
 * each file's tests in a suite named after it, one file after the other. A file's top-level
 * hooks (`before`, `after`) are its suite's, so each file sets up and cleans up as it would
 * alone; what a process costs (node, tsx, the sources' modules) is paid once.
 */
import { resolve } from 'node:path';
import { describe } from 'node:test';
import { pathToFileURL } from 'node:url';

for (const file of process.argv.slice(2)) {
  describe(file, async () => {
    await import(pathToFileURL(resolve(file)).href);
  });
}
