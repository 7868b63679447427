import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { CheckpointLockedError, CheckpointManager } from '../../src/index.js';
import { ChildWorker } from '../support/processes.js';

const HOLDER = fileURLToPath(new URL('./lock-holder.ts', import.meta.url));

const children: ChildWorker[] = [];
const directories: string[] = [];

afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => child.kill()));
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

function checkpointPath(): string {
  const directory = mkdtempSync(join(tmpdir(), 'checkpointer-lock-'));
  directories.push(directory);
  return join(directory, 'checkpoint.json');
}

async function startHolder(path: string): Promise<ChildWorker> {
  const holder = new ChildWorker(HOLDER, [path]);
  children.push(holder);
  await holder.waitForLine((line) => line === 'open' || line.startsWith('error'));
  expect(holder.lines).toContain('open');
  return holder;
}

/** Tells the holder to mark `key` completed; resolves with its answer (`ack …` or `refused …`). */
async function mark(holder: ChildWorker, key: string): Promise<string> {
  holder.process.stdin!.write(`mark ${key}\n`);
  return holder.waitForLine((line) => line === `ack ${key}` || line.startsWith('refused'));
}

const quiet = { warn: (): void => {}, error: (): void => {} };

async function openError(path: string): Promise<unknown> {
  return CheckpointManager.open({ path, pipeline: 'lock-test', logger: quiet }).then(
    async (cp) => {
      await cp.close();
      return undefined;
    },
    (error: unknown) => error,
  );
}

describe('the checkpoint lock between real processes', () => {
  it('refuses a second process while the holder lives, and keeps the holder’s lock alive', async () => {
    const path = checkpointPath();
    const holder = await startHolder(path);
    const error = await openError(path);
    expect(error).toBeInstanceOf(CheckpointLockedError);
    expect(error).toMatchObject({ code: 'CHECKPOINT_LOCKED', pid: holder.pid, host: hostname() });

    // Outlive a few lock refreshes: the holder must still hold its lock and be able to write.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    expect(await mark(holder, 'after-refreshes')).toBe('ack after-refreshes');
    expect(holder.lines.filter((line) => line.startsWith('warn'))).toEqual([]);
    expect(await openError(path)).toMatchObject({ code: 'CHECKPOINT_LOCKED', pid: holder.pid });
  });

  it('takes over the lock of a SIGKILLed holder at once, keeping what it acknowledged', async () => {
    const path = checkpointPath();
    const holder = await startHolder(path);
    for (const key of ['a', 'b', 'c']) expect(await mark(holder, key)).toBe(`ack ${key}`);
    expect((await holder.kill()).signal).toBe('SIGKILL');
    expect(existsSync(`${path}.lock`)).toBe(true);

    // The dead holder's lock was refreshed moments ago, so it cannot be taken over as stale:
    // only because its process is gone.
    const cp = await CheckpointManager.open({ path, pipeline: 'lock-test', logger: quiet });
    try {
      expect(['a', 'b', 'c'].map((key) => cp.isItemCompleted('lock', key))).toEqual([true, true, true]);
      await cp.markItemCompleted('lock', 'd');
    } finally {
      await cp.close();
    }
  });

  it('takes over a lock directory left without an owner by a process killed while locking', async () => {
    const path = checkpointPath();
    // What a SIGKILL between proper-lockfile's mkdir and the owner.json write leaves behind.
    mkdirSync(`${path}.lock`);
    // It waits for an owner to appear (a live locker writes one at once), then takes over.
    const cp = await CheckpointManager.open({ path, pipeline: 'lock-test', logger: quiet });
    try {
      await cp.markItemCompleted('lock', 'a');
      expect(await openError(path)).toMatchObject({ code: 'CHECKPOINT_LOCKED', pid: process.pid });
    } finally {
      await cp.close();
    }
  });

  it('makes a holder whose lock was removed refuse every further write', async () => {
    const path = checkpointPath();
    const holder = await startHolder(path);
    expect(await mark(holder, 'before')).toBe('ack before');
    rmSync(`${path}.lock`, { recursive: true, force: true });

    // Noticed at the holder's next refresh (every 2 s).
    await holder.waitForLine((line) => line.startsWith('warn') && line.includes('lock lost'));
    expect(await mark(holder, 'after')).toMatch(/^refused CHECKPOINT_LOCK_LOST /);
    expect(await mark(holder, 'again')).toMatch(/^refused CHECKPOINT_LOCK_LOST /);
    holder.process.stdin!.write('close\n');
    await holder.waitForLine((line) => line === 'closed');

    const cp = await CheckpointManager.open({ path, pipeline: 'lock-test', logger: quiet });
    try {
      expect(cp.isItemCompleted('lock', 'before')).toBe(true);
      expect(cp.isItemCompleted('lock', 'after')).toBe(false);
      expect(cp.isItemCompleted('lock', 'again')).toBe(false);
    } finally {
      await cp.close();
    }
  });

  it('leaves the new holder’s lock intact when a holder that was taken over closes', async () => {
    const path = checkpointPath();
    const holder = await startHolder(path);
    expect(await mark(holder, 'old')).toBe('ack old');
    // Another process takes the lock over (as it would from a holder it wrongly thought dead).
    rmSync(`${path}.lock`, { recursive: true, force: true });
    const cp = await CheckpointManager.open({ path, pipeline: 'lock-test', logger: quiet });
    try {
      await holder.waitForLine((line) => line.startsWith('warn') && line.includes('lock lost'));
      expect(await mark(holder, 'stale-writer')).toMatch(/^refused CHECKPOINT_LOCK_LOST /);
      holder.process.stdin!.write('close\n');
      await holder.waitForLine((line) => line === 'closed');
      await holder.exited;

      // The old holder's close must not have released or damaged this process's lock.
      expect(await openError(path)).toMatchObject({ code: 'CHECKPOINT_LOCKED', pid: process.pid });
      await cp.markItemCompleted('lock', 'new');
      expect(cp.isItemCompleted('lock', 'old')).toBe(true);
      expect(cp.isItemCompleted('lock', 'stale-writer')).toBe(false);
    } finally {
      await cp.close();
    }
  });
});
