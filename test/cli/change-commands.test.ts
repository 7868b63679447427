import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointManager } from '../../src/index.js';
import { files, makeCheckpoint, runCli, tempDir } from './cli-helpers.js';

const reopen = (path: string): Promise<CheckpointManager> => CheckpointManager.open({ path });

describe('checkpoint-resume reset', () => {
  it('--step forgets one step; without it, every step, stage and counter (keeping the run id)', async () => {
    const path = join(tempDir(), 'cp.json');
    await makeCheckpoint(path);
    const step = await runCli(['reset', path, '--step', 'enrich']);
    expect(step).toMatchObject({ code: 0, stderr: '' });
    expect(step.stdout).toContain('Reset step "enrich" (8 item(s) forgotten)');
    let cp = await reopen(path);
    const runId = cp.runId;
    expect(cp.steps).toEqual(['summarise']);
    expect(cp.isItemCompleted('enrich', 'doc-0')).toBe(false);
    expect(cp.isItemCompleted('summarise', 'doc-0')).toBe(true);
    await cp.close();

    const all = await runCli(['reset', path]);
    expect(all.code).toBe(0);
    expect(all.stdout).toContain('1 step(s), 1 item(s), 1 stage(s), context and counters forgotten');
    cp = await reopen(path);
    expect(cp.getProgressSummary()).toMatchObject({ runId, steps: {}, stages: [], counters: {} });
    await cp.close();
  });

  it('refuses an unknown step and a damaged checkpoint, changing nothing', async () => {
    const path = join(tempDir(), 'cp.json');
    await makeCheckpoint(path);
    const unknown = await runCli(['reset', path, '--step', 'nope']);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('step "nope" is not in');
    writeFileSync(path, '[]');
    const damaged = await runCli(['reset', path]);
    expect(damaged.code).toBe(1);
    expect(damaged.stderr).toMatch(/expected a JSON object at the top level — a good backup exists \(.*cp\.json\.bak\): see "checkpoint-resume backups/);
    expect(readFileSync(path, 'utf8')).toBe('[]');
  });
});

describe('checkpoint-resume retry-failed', () => {
  it('makes failed items pending again, for one step or all', async () => {
    const path = join(tempDir(), 'cp.yaml');
    await makeCheckpoint(path);
    const { code, stdout } = await runCli(['retry-failed', path, '--step', 'enrich']);
    expect(code).toBe(0);
    expect(stdout).toContain('2 failed item(s) of step "enrich" will be retried on the next run.');
    const cp = await reopen(path);
    expect(cp.getItemStatus('enrich', 'doc-5')).toBe('pending');
    expect(cp.getItemStatus('enrich', { id: 7 })).toBe('pending');
    expect(cp.getProgressSummary().steps.enrich).toMatchObject({ completed: 5, failed: 0 });
    await cp.close();
    const again = await runCli(['retry-failed', path]);
    expect(again).toMatchObject({ code: 0, stdout: 'No failed items; nothing to change.\n' });
  });
});

describe('while a live process holds the lock', () => {
  it('reset, retry-failed, restore and compact exit 3 and change nothing', async () => {
    const directory = tempDir();
    const path = join(directory, 'cp.json');
    await makeCheckpoint(path);
    const holder = await reopen(path);
    try {
      const before = { listing: files(directory), snapshot: readFileSync(path) };
      const runs = await Promise.all([
        runCli(['reset', path]),
        runCli(['retry-failed', path, '--step', 'enrich']),
        runCli(['restore', path, '--backup', '0']),
        runCli(['compact', path]),
      ]);
      for (const run of runs) {
        expect(run.code).toBe(3);
        expect(run.stdout).toBe('');
        expect(run.stderr).toBe(`error: ${path} is locked by process ${process.pid} on ${(await import('node:os')).hostname()}, so nothing was changed — wait for the run to finish or stop it, then try again (status, inspect, validate and backups work meanwhile)\n`);
      }
      expect(files(directory)).toEqual(before.listing);
      expect(readFileSync(path)).toEqual(before.snapshot);
      // The holder still owns its checkpoint and can write.
      await holder.markItemCompleted('enrich', 'after');
    } finally {
      await holder.close();
    }
  });
});
