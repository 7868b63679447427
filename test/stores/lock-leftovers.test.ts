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
