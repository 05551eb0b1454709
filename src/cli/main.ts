#!/usr/bin/env node
// The `session-pgsql` command line (package.json "bin"): the commands are in program.ts.
import { runProgram } from './program.js';

void runProgram(process.argv.slice(2), {
  streams: { stdout: process.stdout, stderr: process.stderr },
  env: process.env,
}).then((code) => {
  process.exitCode = code;
});
