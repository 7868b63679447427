import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { CheckpointLockLostError } from '../../src/core/errors.js';
import { CheckpointManager } from '../../src/manager/checkpoint-manager.js';
import { ChildWorker } from '../support/processes.js';

const CHILD = fileURLToPath(new URL('./lock-child.ts', import.meta.url));
const directories: string[] = [];
const children: ChildWorker[] = [];

afterAll(async () => {
  await Promise.all(children.map((child) => child.kill()));
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

function checkpointPath(): string {
  const directory = mkdtempSync(join(tmpdir(), 'checkpointer-lock-'));
  directories.push(directory);
  return join(directory, 'checkpoint.json');
}

function spawn(path: string, startAt: number): ChildWorker {
  const child = new ChildWorker(CHILD, [path, String(startAt)]);
  children.push(child);
  return child;
}

const quiet = { warn: () => {}, error: () => {} };

describe('lock contention between processes', () => {
  it('8 processes open one checkpoint at the same moment: exactly one wins, 7 get CheckpointLockedError at once', async () => {
    const path = checkpointPath();
    // Start-up through tsx takes a while on a busy machine: all open at one agreed moment.
    const startAt = Date.now() + 6000;
    const racers = Array.from({ length: 8 }, () => spawn(path, startAt));
    const lines = await Promise.all(racers.map((child) => child.waitForLine(() => true)));
    const winners = racers.filter((_, i) => lines[i] === 'won');
    const losers = lines.filter((line) => line.startsWith('locked '));
    expect(lines.filter((line) => line.startsWith('error'))).toEqual([]);
    expect(winners).toHaveLength(1);
    expect(losers).toHaveLength(7);
    for (const line of losers) {
      const [, , pid] = line.split(' ');
      // The message names the holder, when it had written its owner file yet.
      if (pid !== 'undefined') expect(Number(pid)).toBe(winners[0]!.pid);
    }
    winners[0]!.process.stdin!.end();
    expect((await winners[0]!.exited).code).toBe(0);
    const cp = await CheckpointManager.open({ path, pipeline: 'lock-test', logger: quiet });
    expect(cp.isItemCompleted('step', 'held')).toBe(true);
    await cp.close();
  });

  it('a holder killed with SIGKILL leaves its lock behind, and the next open takes it over at once', async () => {
    const path = checkpointPath();
    const holder = spawn(path, 0);
    expect(await holder.waitForLine(() => true)).toBe('won');
    await holder.kill();
    expect(existsSync(`${path}.lock`)).toBe(true);
    // Taken over because the holder's process is gone: its lock, refreshed moments ago, is not stale.
    const cp = await CheckpointManager.open({ path, pipeline: 'lock-test', logger: quiet });
    expect(cp.isItemCompleted('step', 'held')).toBe(true);
    await cp.markItemCompleted('step', 'after-takeover');
    await cp.close();
  });

  it('a lock whose directory is removed mid-run is noticed: the next write fails with CheckpointLockLostError', async () => {
    const path = checkpointPath();
    const warnings: string[] = [];
    const cp = await CheckpointManager.open({ path, pipeline: 'lock-test', logger: { warn: (message: string) => warnings.push(message), error: () => {} } });
    await cp.markItemCompleted('step', 'before');
    rmSync(`${path}.lock`, { recursive: true, force: true });
    // The lock is refreshed every 2 seconds; the refresh finds it gone. Until then writes still land.
    let lost: unknown;
    const deadline = Date.now() + 20_000;
    for (let i = 0; !lost && Date.now() < deadline; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await cp.markItemCompleted('step', `while-${i}`).catch((error: unknown) => {
        lost = error;
      });
    }
    expect(lost).toBeInstanceOf(CheckpointLockLostError);
    expect(warnings.join('\n')).toMatch(/lock lost/);
    await cp.close();
    // What was written before the loss is kept.
    const again = await CheckpointManager.open({ path, pipeline: 'lock-test', logger: quiet });
    expect(again.isItemCompleted('step', 'before')).toBe(true);
    await again.close();
  });
});
