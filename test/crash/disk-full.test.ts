// Must come first: it wraps node:fs before the library binds to it (used here to run out of space).
import { disk } from './power-loss-fs.js';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CheckpointStoreError } from '../../src/core/errors.js';
import type { Durability } from '../../src/stores/file/file-store-options.js';
import { CheckpointManager } from '../../src/manager/checkpoint-manager.js';

const directories: string[] = [];
const mounts: string[] = [];
afterEach(() => disk.stop());
afterAll(() => {
  for (const mount of mounts) execFileSync('umount', [mount]);
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});
const fresh = (): string => {
  const directory = mkdtempSync(join(tmpdir(), 'checkpointer-full-'));
  directories.push(directory);
  return directory;
};
const quiet = { warn: () => {}, error: () => {} };

/** Marks items until a mark fails; returns the acknowledged ones and the error. */
async function markUntilFailure(cp: CheckpointManager, limit: number): Promise<{ acked: string[]; error: unknown }> {
  const acked: string[] = [];
  for (let i = 0; i < limit; i++) {
    try {
      await cp.markItemCompleted('work', `item-${String(i).padStart(5, '0')}`);
    } catch (error) {
      return { acked, error };
    }
    acked.push(`item-${String(i).padStart(5, '0')}`);
  }
  return { acked, error: undefined };
}

async function expectAllCompleted(path: string, items: string[]): Promise<void> {
  const cp = await CheckpointManager.open({ path, logger: quiet });
  expect(items.filter((item) => !cp.isItemCompleted('work', item))).toEqual([]);
  await cp.close();
}

describe('disk full (ENOSPC injected into the real writes)', () => {
  for (const durability of ['normal', 'full'] as Durability[]) {
    it(`${durability}: the mark that does not fit fails with a CheckpointStoreError, and every acknowledged mark is kept`, async () => {
      const directory = fresh();
      const path = join(directory, 'checkpoint.json');
      const cp = await CheckpointManager.open({ path, durability, minCompactBytes: 1 << 20, logger: quiet });
      disk.watch(directory);
      disk.spaceLeft = 3000;
      const { acked, error } = await markUntilFailure(cp, 1000);
      expect(error).toBeInstanceOf(CheckpointStoreError);
      expect((error as Error).message).toMatch(/checkpoint\.json.*ENOSPC/);
      expect(acked.length).toBeGreaterThan(5);
      // The failed mark was refused: every later one is refused too, and close() saves nothing
      // of the memory state (which holds the refused mark).
      await expect(cp.markItemCompleted('work', 'after-the-failure')).rejects.toBeInstanceOf(CheckpointStoreError);
      // Nor does the refused mark count in memory — where the refusal is immediate (`normal`);
      // a `full` group commit fails after its marks were handed over (see reliability.md).
      if (durability === 'normal') expect(cp.getProgressSummary().steps.work?.completed).toBe(acked.length);
      // close() releases the lock and still says that not everything was saved.
      await expect(cp.close()).rejects.toBeInstanceOf(CheckpointStoreError);
      disk.spaceLeft = Infinity;
      await expectAllCompleted(path, acked);
      // Exactly what was acknowledged: not the refused mark, not one more.
      const reopened = await CheckpointManager.open({ path, logger: quiet });
      expect(reopened.getProgressSummary().steps.work?.completed).toBe(acked.length);
      await reopened.close();
    });
  }

  it('close() on a full disk rejects with a CheckpointStoreError naming the file, and keeps the journal', async () => {
    const directory = fresh();
    const path = join(directory, 'checkpoint.json');
    const cp = await CheckpointManager.open({ path, minCompactBytes: 1 << 20, logger: quiet });
    const { acked } = await markUntilFailure(cp, 200);
    disk.watch(directory);
    disk.spaceLeft = 100;
    const error = await cp.close().then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(CheckpointStoreError);
    expect((error as CheckpointStoreError).location).toBe(path);
    expect((error as Error).message).toMatch(/checkpoint\.json.*ENOSPC/);
    expect(((error as Error).cause as NodeJS.ErrnoException).code).toBe('ENOSPC');
    disk.spaceLeft = Infinity;
    await expectAllCompleted(path, acked);
  });

  it('flush() on a disk whose fsync fails with ENOSPC rejects with a CheckpointStoreError naming the file', async () => {
    const directory = fresh();
    const path = join(directory, 'checkpoint.json');
    const cp = await CheckpointManager.open({ path, logger: quiet });
    await cp.markItemCompleted('work', 'written-not-synced');
    disk.watch(directory);
    disk.syncFailure = 'ENOSPC';
    const error = await cp.flush().then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(CheckpointStoreError);
    expect((error as Error).message).toMatch(/checkpoint\.json.*ENOSPC/);
    disk.syncFailure = undefined;
    await cp.close();
  });
});

function mountTmpfs(size: string): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const directory = fresh();
  // As root the mount must work: a failure here fails the suite instead of skipping the test.
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', directory], { stdio: 'pipe' });
  mounts.push(directory);
  return directory;
}

const probe = mountTmpfs('64k');

// A real small file system: only root may mount one (as in CI); everyone runs the injected ENOSPC above.
describe.runIf(probe !== undefined)('a real 64 KB tmpfs', () => {
  it('fills up: the failing mark is a CheckpointStoreError, and after making room nothing acknowledged is lost', async () => {
    const path = join(probe!, 'checkpoint.json');
    const cp = await CheckpointManager.open({ path, lock: false, minCompactBytes: 8192, backups: 1, logger: quiet });
    const { acked, error } = await markUntilFailure(cp, 5000);
    expect(error).toBeInstanceOf(CheckpointStoreError);
    expect((error as Error).message).toMatch(/ENOSPC|no space/i);
    await cp.close().catch(() => {});
    execFileSync('mount', ['-o', 'remount,size=1m', probe!]);
    await expectAllCompleted(path, acked);
  });

  for (const durability of ['normal', 'full'] as Durability[]) {
    it(`${durability}: a compaction that fills the disk keeps the good snapshot (a short write is not renamed over it)`, async () => {
      const directory = mountTmpfs('64k')!;
      const path = join(directory, 'checkpoint.json');
      // Frequent compactions of a snapshot that soon does not fit; no backup to fall back on.
      const cp = await CheckpointManager.open({ path, durability, minCompactBytes: 2000, backups: 0, logger: quiet });
      const acked: string[] = [];
      for (let i = 0; ; i++) {
        const key = `item-${i}`;
        const written = await cp.markItemCompleted('work', key, { payload: 'x'.repeat(100) }).then(() => true, () => false);
        if (!written) break;
        acked.push(key);
      }
      await cp.close().catch(() => {});
      execFileSync('mount', ['-o', 'remount,size=4m', directory]);
      const events: string[] = [];
      const reopened = await CheckpointManager.open({ path, logger: quiet, on: { recovered: () => events.push('recovered'), warning: (event) => events.push(event.message) } });
      expect(reopened.getProgressSummary().steps.work?.completed).toBe(acked.length);
      expect(acked.filter((key) => !reopened.isItemCompleted('work', key))).toEqual([]);
      expect(events.filter((event) => event === 'recovered')).toEqual([]);
      await reopened.close();
    });
  }

  it('read-only: opening is refused with a CheckpointStoreError that names the cause, and the data is untouched', async () => {
    const directory = mountTmpfs('1m')!;
    const path = join(directory, 'checkpoint.json');
    const cp = await CheckpointManager.open({ path, logger: quiet });
    await cp.markItemCompleted('work', 'saved');
    await cp.close();
    execFileSync('mount', ['-o', 'remount,ro', directory]);
    // Root ignores file permissions, but not a read-only mount: the lock cannot be created.
    await expect(CheckpointManager.open({ path, logger: quiet })).rejects.toBeInstanceOf(CheckpointStoreError);
    // Without the lock the journal still has to be opened for appending: refused the same way.
    const error = await CheckpointManager.open({ path, lock: false, logger: quiet }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CheckpointStoreError);
    expect((error as Error).message).toMatch(/EROFS/);
    execFileSync('mount', ['-o', 'remount,rw', directory]);
    const again = await CheckpointManager.open({ path, logger: quiet });
    expect(again.isItemCompleted('work', 'saved')).toBe(true);
    await again.close();
  });
});
