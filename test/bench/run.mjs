#!/usr/bin/env node
// `npm run bench`: installs the benchmark's own dependencies on first use (so that baselines such
// as better-sqlite3 never weigh on the library's install), then runs the TypeScript benchmark
// against the library's source through tsx. Arguments are passed on: `npm run bench -- --quick`.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
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

// Every dependency of the bench package, so that a peer added later is installed too.
const { dependencies } = JSON.parse(readFileSync(join(bench, 'package.json'), 'utf8'));
const missing = Object.keys(dependencies).filter((name) => !existsSync(join(bench, 'node_modules', name, 'package.json')));
if (missing.length > 0) {
  console.log(`Installing the benchmark dependencies in test/bench (missing: ${missing.join(', ')}; better-sqlite3 may compile, and a Node 22 binary is downloaded for the PostgreSQL queues, which takes a few minutes)…`);
  run(npm, ['install', '--prefix', bench, '--no-audit', '--no-fund'], 'npm install in test/bench');
}
if (!existsSync(join(root, 'node_modules', 'tsx'))) {
  console.error('tsx is missing: run `npm install` at the repository root first');
  process.exit(1);
}
run(process.execPath, ['--max-old-space-size=4096', '--import', 'tsx', join(bench, 'main.ts'), ...process.argv.slice(2)], 'the benchmark');
