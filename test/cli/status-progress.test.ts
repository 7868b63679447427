import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { CheckpointManager } from '../../src/index.js';
import { runCli, tempDir } from './cli-helpers.js';

interface StepJson {
  total: number | null;
  completed: number;
  failed: number;
  pending: number;
  deadLetter: number;
  percent: number | null;
  ratePerSecond: number | null;
  etaMs: number | null;
}
const statusOf = async (path: string): Promise<{ updatedAt: string; steps: Record<string, StepJson> }> => {
  const { code, stdout, stderr } = await runCli(['status', path, '--json']);
  expect(stderr).toBe('');
  expect(code).toBe(0);
  return JSON.parse(stdout) as { updatedAt: string; steps: Record<string, StepJson> };
};

/** Date.now() as the checkpoint sees it while marks are made: `at(ms)` moves it. */
function clock(start: number): { at(ms: number): void } {
  const spy = vi.spyOn(Date, 'now');
  spy.mockReturnValue(start);
  return { at: (ms) => spy.mockReturnValue(start + ms) };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('status: totals, percent, pending, rate and ETA', () => {
  it('forEach over an array records its length; status shows total, percent, rate and ETA', async () => {
    const path = join(tempDir(), 'cp.json');
    // The marks happen 40 s before the status call, 1 s apart: 30 items in 29 s.
    const time = clock(Date.now() - 40_000);
    const cp = await CheckpointManager.open({ path });
    const documents = Array.from({ length: 150 }, (_, i) => `doc-${i}`);
    let n = 0;
    await cp.step('enrich').forEach(documents.slice(0, 30), () => {
      time.at(1000 * n++);
    });
    expect(cp.getStepTotal('enrich')).toBe(30);
    // The whole input's length, for a loop that is handed only part of it.
    await cp.step('enrich').setTotal(150);
    await cp.markItemFailed('enrich', 'doc-149', new Error('no'));
    await cp.close();
    vi.restoreAllMocks();

    const report = await statusOf(path);
    const step = report.steps['enrich']!;
    expect(step).toMatchObject({ total: 150, completed: 30, failed: 1, pending: 119, deadLetter: 0, percent: 20 });
    // 29 completions over the 28 s between the first and the last sample of the window.
    expect(step.ratePerSecond).toBeGreaterThan(0.9);
    expect(step.ratePerSecond).toBeLessThan(1.1);
    // 120 items left at about one a second.
    expect(step.etaMs).toBeGreaterThan(100_000);
    expect(step.etaMs).toBeLessThan(140_000);
    // The file itself says how many items the step has, for whoever reads it with cat.
    expect(JSON.parse(readFileSync(path, 'utf8')).steps.enrich.total).toBe(150);

    const { stdout } = await runCli(['status', path]);
    expect(stdout).toMatch(/enrich\s+-\s+30\s+150\s+20\.0%\s+1\s+0\s+119\s+0\s+1\.0\/s\s+\d+m( \d+s)?\n/);
  });

  it('shows no rate or ETA once the last completion is more than a minute old', async () => {
    const path = join(tempDir(), 'cp.yaml');
    const time = clock(Date.now() - 10 * 60_000);
    const cp = await CheckpointManager.open({ path });
    await cp.setStepTotal('s', 10);
    for (let i = 0; i < 5; i++) {
      time.at(i * 1000);
      await cp.markItemCompleted('s', i);
    }
    await cp.close();
    vi.restoreAllMocks();
    expect((await statusOf(path)).steps['s']).toMatchObject({ total: 10, completed: 5, percent: 50, ratePerSecond: null, etaMs: null });
  });

  it('items handed back by retry-failed stay visible as pending, with their last error; Updated moves', async () => {
    const path = join(tempDir(), 'cp.json');
    // Marked an hour ago, so that a change made now must move "Updated".
    clock(Date.now() - 3_600_000);
    const cp = await CheckpointManager.open({ path });
    await cp.markItemCompleted('s', 'a');
    await cp.markItemFailed('s', 'b', new Error('b broke'));
    await cp.close();
    vi.restoreAllMocks();
    const before = await statusOf(path);
    expect(before.steps['s']).toMatchObject({ total: null, completed: 1, failed: 1, pending: 0 });

    const retried = await runCli(['retry-failed', path]);
    expect(retried.code).toBe(0);
    const after = await statusOf(path);
    expect(after.steps['s']).toMatchObject({ completed: 1, failed: 0, pending: 1, handedBack: 1 });
    expect(Date.parse(after.updatedAt)).toBeGreaterThan(Date.parse(before.updatedAt));
    const inspect = JSON.parse((await runCli(['inspect', path, '--json'])).stdout) as { items: { key: string; status: string; attempts: number; error: { message: string } | null }[] };
    expect(inspect.items).toContainEqual(expect.objectContaining({ key: 'b', status: 'pending', attempts: 0, error: expect.objectContaining({ message: 'b broke' }) }));

    // The next run hands it out again and it counts as done once done.
    const reopened = await CheckpointManager.open({ path });
    expect(reopened.pendingItems('s', ['a', 'b'])).toEqual(['b']);
    // Handed back and not done yet: complete() keeps the checkpoint rather than forget it.
    const kept = await reopened.complete();
    expect(kept).toMatchObject({ removed: false, left: { handedBack: 1 } });
    const again = await CheckpointManager.open({ path });
    await again.markItemInProgress('s', 'b');
    await again.markItemCompleted('s', 'b');
    expect(again.getProgressSummary().steps['s']).toMatchObject({ completed: 2, pending: 0, failed: 0, handedBack: 0 });
    expect(await again.complete()).toMatchObject({ removed: true });
  });

  it('reset moves Updated forward', async () => {
    const path = join(tempDir(), 'cp.json');
    clock(Date.now() - 3_600_000);
    const cp = await CheckpointManager.open({ path });
    await cp.markItemCompleted('s', 'a');
    await cp.close();
    vi.restoreAllMocks();
    const before = await statusOf(path);
    const reset = await runCli(['reset', path, '--step', 's']);
    expect(reset.code).toBe(0);
    const after = await statusOf(path);
    expect(Date.parse(after.updatedAt)).toBeGreaterThan(Date.parse(before.updatedAt));
    expect(after.steps['s']).toBeUndefined();
  });
});
