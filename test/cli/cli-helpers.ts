import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CheckpointManager } from '../../src/index.js';
import { CLI_BUNDLE } from '../support/cli-bundle.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI (`checkpoint-resume ...args`) as a real process, its output going to pipes (not a
 * TTY), from the bundle built for this test run; `preload` modules are imported before it (e.g.
 * one that hides a package). No time limit: a slow machine is not a failure.
 */
export function runCli(args: string[], env: NodeJS.ProcessEnv = {}, preload: string[] = []): Promise<CliRun> {
  const imports = preload.length > 0 ? ['--import', 'tsx', ...preload.flatMap((module) => ['--import', module])] : [];
  return run(process.execPath, [...imports, CLI_BUNDLE, ...args], { cwd: root, env: { ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined, ...env } });
}

/** Runs TypeScript in a separate process that exits without closing its checkpoint (a crash). */
export function runScript(code: string): Promise<CliRun> {
  return run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], { cwd: root });
}

function run(command: string, args: string[], options: { cwd: string; env?: NodeJS.ProcessEnv }): Promise<CliRun> {
  return new Promise((done) => {
    execFile(command, args, { ...options, maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      done({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
    });
  });
}

export const indexModule = join(root, 'src', 'index.ts');

export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'checkpointer-cli-'));
}

export const files = (directory: string): string[] => readdirSync(directory).sort();

/** doc-5 failed twice, {"id":7} failed, doc-9 in progress, `summarise` doc-0 with a result, a counter. */
export async function markFailuresAndResults(cp: CheckpointManager): Promise<void> {
  await cp.markItemInProgress('enrich', 'doc-5');
  await cp.markItemFailed('enrich', 'doc-5', new Error('first failure'));
  await cp.markItemInProgress('enrich', 'doc-5');
  await cp.markItemFailed('enrich', 'doc-5', new Error('upstream said no'));
  await cp.markItemFailed('enrich', { id: 7 }, new TypeError('bad input'));
  await cp.markItemInProgress('enrich', 'doc-9');
  await cp.markItemCompleted('summarise', 'doc-0', { words: 3 });
  await cp.increment('cost', 1.25);
}

/**
 * A checkpoint with two steps: `enrich` (5 completed, doc-5 failed twice, {"id":7} failed,
 * doc-9 interrupted) and `summarise` (1 completed with a result), a stage, a counter. Closed
 * twice, so it has a backup.
 */
export async function makeCheckpoint(path: string): Promise<void> {
  let cp = await CheckpointManager.open({ path, pipeline: 'demo', config: { model: 'm1' } });
  for (let i = 0; i < 5; i++) await cp.markItemCompleted('enrich', `doc-${i}`);
  await cp.markStageCompleted('prep');
  await cp.close();
  cp = await CheckpointManager.open({ path, pipeline: 'demo', config: { model: 'm1' } });
  await markFailuresAndResults(cp);
  await cp.setStepSummary('enrich', { status: 'running', startedAt: '2026-01-01T00:00:00.000Z' });
  await cp.close();
}
