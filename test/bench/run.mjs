#!/usr/bin/env node
// `npm run bench`: installs the benchmark's own dependencies on first use (so that baselines such
// as better-sqlite3 never weigh on the library's install), then runs the TypeScript benchmark
// against the library's source through tsx. Arguments are passed on: `npm run bench -- --quick`.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bench = dirname(fileURLToPath(import.meta.url));
const root = join(bench, '..', '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(command, args, what) {
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.error) throw new Error(`${what} could not start: ${result.error.message}`);
  if (result.status !== 0) {
    console.error(`${what} failed (exit code ${result.status ?? result.signal})`);
    process.exit(result.status ?? 1);
  }
}

const installed = existsSync(join(bench, 'node_modules', 'better-sqlite3')) && existsSync(join(bench, 'node_modules', 'write-file-atomic'));
if (!installed) {
  console.log('Installing the benchmark dependencies in test/bench (first run only; better-sqlite3 may compile, which takes a minute or two)…');
  run(npm, ['install', '--prefix', bench, '--no-audit', '--no-fund'], 'npm install in test/bench');
}
if (!existsSync(join(root, 'node_modules', 'tsx'))) {
  console.error('tsx is missing: run `npm install` at the repository root first');
  process.exit(1);
}
run(process.execPath, ['--max-old-space-size=4096', '--import', 'tsx', join(bench, 'main.ts'), ...process.argv.slice(2)], 'the benchmark');
