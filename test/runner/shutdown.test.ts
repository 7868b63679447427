import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { CheckpointManager } from '../../src/index.js';

const child = fileURLToPath(new URL('./children/interruptible.ts', import.meta.url));
const dirs: string[] = [];

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Milliseconds from the first signal to the exit. */
  stoppedInMs: number | undefined;
}

/** Runs the child; on READY sends `signals` (ms after READY → signal name). */
function runChild(settings: object, signals: Array<[number, NodeJS.Signals]> = []): Promise<Run> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--import', 'tsx', child, JSON.stringify(settings)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let signalledAt: number | undefined;
    proc.stdout.on('data', (chunk: Buffer) => {
      const before = stdout;
      stdout += chunk.toString();
      if (!before.includes('READY') && stdout.includes('READY')) {
        for (const [afterMs, signal] of signals) {
          setTimeout(() => {
            signalledAt ??= Date.now();
            proc.kill(signal);
          }, afterMs);
        }
      }
    });
    proc.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    proc.on('error', reject);
    proc.on('close', (code) => resolve({ code, stdout, stderr, stoppedInMs: signalledAt === undefined ? undefined : Date.now() - signalledAt }));
  });
}

function setup(overrides: object = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'checkpointer-shutdown-'));
  dirs.push(dir);
  return {
    checkpoint: join(dir, 'checkpoint.json'),
    executions: join(dir, 'executions.log'),
    items: 120,
    itemMs: 40,
    concurrency: 4,
    shutdownGraceMs: 5_000,
    readyAfter: 20,
    honourSignal: false,
    mode: 'uncaught',
    ...overrides,
  };
}

const executions = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter(Boolean);

async function completedItems(path: string): Promise<number> {
  const cp = await CheckpointManager.open({ path, lock: false });
  const count = cp.getProgressSummary().steps.work?.completed ?? 0;
  await cp.close();
  return count;
}

describe('forEach in a process that receives SIGINT/SIGTERM', () => {
  it('stops within the grace period, saves the in-flight items, exits 75, and the next run does only the rest', async () => {
    const settings = setup();
    const first = await runChild(settings, [[0, 'SIGINT']]);
    expect(first.code).toBe(75);
    expect(first.stderr).toContain('stopped by SIGINT');
    // The uncaught CheckpointAbortError is printed as one prefixed line, not a stack trace.
    expect(first.stderr).toMatch(/^\[checkpointer\] step "work" stopped by SIGINT: .*run the same command again to resume/m);
    expect(first.stderr).not.toContain('    at ');
    expect(first.stdout).not.toContain('DONE');
    // In-flight items take 40 ms and were allowed to finish; the stop must not wait for the grace period.
    expect(first.stoppedInMs).toBeLessThan(4_000);
    const startedFirst = executions(settings.executions);
    expect(startedFirst.length).toBeGreaterThanOrEqual(20);
    expect(startedFirst.length).toBeLessThan(120);
    // Every item started before the signal finished inside the grace period and was saved.
    expect(await completedItems(settings.checkpoint)).toBe(startedFirst.length);

    const second = await runChild({ ...settings, readyAfter: 0 });
    expect(second.code).toBe(0);
    const report = JSON.parse(second.stdout.split('DONE ')[1]!) as { completed: number; skipped: number; failed: number };
    expect(report).toMatchObject({ completed: 120 - startedFirst.length, skipped: startedFirst.length, failed: 0 });
    const all = executions(settings.executions);
    expect(all).toHaveLength(120);
    expect(new Set(all).size).toBe(120);
  });

  it('treats SIGTERM like SIGINT', async () => {
    const settings = setup({ items: 60 });
    const first = await runChild(settings, [[0, 'SIGTERM']]);
    expect(first.code).toBe(75);
    expect(first.stderr).toContain('stopped by SIGTERM');
    expect(await completedItems(settings.checkpoint)).toBe(executions(settings.executions).length);
  });

  it('abandons in-flight items on a second signal; they stay in progress and run again next time', async () => {
    // Items take 20 s unless their signal fires; the grace period alone would take 20 s.
    const settings = setup({ items: 30, itemMs: 20_000, readyAfter: 0, honourSignal: true, shutdownGraceMs: 20_000 });
    const first = await runChild(settings, [[300, 'SIGINT'], [1_200, 'SIGINT']]);
    expect(first.code).toBe(75);
    expect(first.stoppedInMs).toBeLessThan(8_000);
    expect(first.stderr).toContain('send SIGINT again to stop now');
    const started = executions(settings.executions);
    expect(started).toHaveLength(4);
    expect(await completedItems(settings.checkpoint)).toBe(0);

    const cp = await CheckpointManager.open({ path: settings.checkpoint, lock: false });
    // Reopening releases interrupted items: pending again, their attempt counted.
    expect(cp.getItem('work', started[0]).attempts).toBe(1);
    expect(cp.isItemPending('work', started[0])).toBe(true);
    await cp.close();

    const second = await runChild({ ...settings, itemMs: 5 });
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('"completed":30');
    const all = executions(settings.executions);
    expect(all).toHaveLength(34);
    expect(new Set(all).size).toBe(30);
  });

  it('sets exitCode 75 when the program catches the interruption and returns', async () => {
    const settings = setup({ items: 60, mode: 'catch' });
    const run = await runChild(settings, [[0, 'SIGINT']]);
    expect(run.stdout).toContain('CAUGHT ABORTED exitCode=75');
    expect(run.code).toBe(75);
    // Caught: the program decides what to print; the library prints only the shutdown notice.
    expect(run.stderr).not.toContain('run the same command again');
  });
});
