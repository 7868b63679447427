import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { CheckpointManager } from '../../src/index.js';

let directory: string | undefined;
afterEach(() => {
  if (directory) rmSync(directory, { recursive: true, force: true });
});

it('removes the takeover leftovers of lockers killed half-way, and nothing else', async () => {
  directory = mkdtempSync(join(tmpdir(), 'checkpointer-lock-leftovers-'));
  const path = join(directory, 'cp.json');
  // What a process killed between moving a dead holder's lock aside and deleting it leaves
  // (a takeover takes milliseconds: a minute later it was abandoned).
  const deadLocker = `${path}.lock.stale-999999999-${Date.now() - 120_000}`;
  const oldLocker = `${path}.lock.stale-${process.pid}-${Date.now() - 3_600_000}`;
  // One in progress right now (another process between its rename and its check) is left alone.
  const inProgress = `${path}.lock.stale-999999998-${Date.now()}`;
  mkdirSync(inProgress);
  mkdirSync(deadLocker);
  writeFileSync(join(deadLocker, 'owner.json'), JSON.stringify({ pid: 1, host: 'x', since: 'y' }));
  mkdirSync(oldLocker);
  // Look-alikes that are not ours.
  const userFiles = [`${path}.lock.stale-notes`, `${path}.lock.stale-1-2-3`, `${path}.locked`];
  for (const file of userFiles) writeFileSync(file, 'mine');
  const cp = await CheckpointManager.open({ path });
  await cp.close();
  expect(existsSync(deadLocker)).toBe(false);
  expect(existsSync(oldLocker)).toBe(false);
  expect(existsSync(inProgress)).toBe(true);
  for (const file of userFiles) expect(existsSync(file), file).toBe(true);
});

it('complete() removes backups a run with more backups left, and never touches a stray look-alike', async () => {
  directory = mkdtempSync(join(tmpdir(), 'checkpointer-backup-leftovers-'));
  const path = join(directory, 'cp.json');
  const quiet = { warn: (): void => {}, error: (): void => {} };
  let cp = await CheckpointManager.open({ path, pipeline: 'p', backups: 5, minCompactBytes: 500, logger: quiet });
  for (let i = 0; i < 2000; i++) await cp.markItemCompleted('s', `k${i}`);
  await cp.close();
  expect(existsSync(`${path}.bak.4`)).toBe(true);
  const strays = [`${path}.bak.9`, `${path}.bak.01`];
  for (const file of strays) writeFileSync(file, 'not a checkpoint');
  cp = await CheckpointManager.open({ path, pipeline: 'p', logger: quiet }); // default: 3 backups
  expect((await cp.complete()).removed).toBe(true);
  for (const index of ['', '.1', '.2', '.3', '.4']) expect(existsSync(`${path}.bak${index}`), `.bak${index}`).toBe(false);
  for (const file of strays) expect(existsSync(file), file).toBe(true);
  // The next run starts clean: nothing of the finished run is "recovered".
  const recovered: string[] = [];
  cp = await CheckpointManager.open({ path, pipeline: 'p', logger: quiet, on: { recovered: (event) => recovered.push(event.from) } });
  expect(cp.getProgressSummary().steps.s).toBeUndefined();
  expect(recovered).toEqual([]);
  await cp.close();
});
