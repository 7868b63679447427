// Must come first: it wraps node:fs before the library binds to it.
import { disk, materialize, type DurableState } from './power-loss-fs.js';
import { closeSync, fdatasync, mkdtempSync, openSync, renameSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import type * as FsModule from 'node:fs';
import { open } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CheckpointManager } from '../../src/manager/checkpoint-manager.js';

const directories: string[] = [];
const fresh = (): string => {
  const directory = mkdtempSync(join(tmpdir(), 'checkpointer-power-'));
  directories.push(directory);
  return directory;
};
afterEach(() => disk.stop());
afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

interface Cut {
  state: DurableState;
  /** How many marks had been acknowledged when the power went. */
  acked: number;
  event: string;
}

describe('the power-loss model itself', () => {
  it('drops a write that was not fsynced and a new name whose directory was not fsynced', async () => {
    const directory = fresh();
    disk.watch(directory);
    writeFileSync(join(directory, 'unsynced'), 'lost');
    expect(disk.capture().has('unsynced')).toBe(false);
    const handle = await open(directory, 'r');
    await handle.sync();
    await handle.close();
    // The name survives the directory fsync; the data, never fsynced, does not.
    expect(disk.capture().get('unsynced')?.length).toBe(0);
  });

  it('an fdatasync covers what was written before it was called, not what is written while it runs', async () => {
    const directory = fresh();
    disk.watch(directory);
    const fd = openSync(join(directory, 'file'), 'a');
    writeSync(fd, 'before;');
    const synced = new Promise<void>((resolve, reject) => fdatasync(fd, (error) => (error ? reject(error) : resolve())));
    // On the event loop before the thread pool's sync reports back: not covered by it.
    writeSync(fd, 'during;');
    await synced;
    closeSync(fd);
    const handle = await open(directory, 'r');
    await handle.sync();
    await handle.close();
    expect(disk.capture().get('file')?.toString()).toBe('before;');
  });

  it('a directory fsync is recorded even when a name vanishes while the model lists the directory', async () => {
    const directory = fresh();
    disk.watch(directory);
    writeFileSync(join(directory, 'moving'), 'x');
    // The model's first stat finds the name gone, as when a rename on the thread pool lands
    // between its readdir and its stat.
    const fs = createRequire(import.meta.url)('node:fs') as { statSync: typeof FsModule.statSync };
    const statSync = fs.statSync;
    fs.statSync = ((path: string, options?: FsModule.StatSyncOptions) => {
      fs.statSync = statSync;
      if (String(path).endsWith('moving')) renameSync(join(directory, 'moving'), join(directory, 'moved'));
      return statSync(path, options);
    }) as typeof statSync;
    const handle = await open(directory, 'r');
    try {
      await handle.sync();
    } finally {
      fs.statSync = statSync;
      await handle.close();
    }
    expect(disk.events.filter((event) => event.kind === 'dir-sync')).toHaveLength(1);
    expect([...disk.capture().keys()]).toEqual(['moved']);
  });
});

describe("durability 'full' under power cuts at every fsync, rename and directory fsync", () => {
  for (const format of ['json', 'yaml'] as const) {
    it(`${format}: every acknowledged mark survives every cut, and the checkpoint always opens without recovery`, async () => {
      const directory = fresh();
      const path = join(directory, `checkpoint.${format}`);
      disk.watch(directory);
      const cuts: Cut[] = [];
      const acked: string[] = [];
      disk.onChange = () => cuts.push({ state: disk.capture(), acked: acked.length, event: disk.events.at(-1)!.kind });
      // Small compaction threshold: many compactions, so that cuts land between their steps.
      const cp = await CheckpointManager.open({ path, pipeline: 'power', durability: 'full', minCompactBytes: 2048, backups: 2, logger: { warn: () => {}, error: () => {} } });
      const queue = Array.from({ length: 200 }, (_, i) => `item-${'x'.repeat(i % 5)}${i}`);
      const loop = async (): Promise<void> => {
        for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
          await cp.markItemInProgress('work', item);
          // Some work of uneven length, so that marks arrive while a group commit or a compaction is under way.
          await new Promise((resolve) => setTimeout(resolve, item.length % 3));
          await cp.markItemCompleted('work', item);
          acked.push(item);
        }
      };
      await Promise.all([loop(), loop(), loop(), loop()]);
      await cp.close();
      disk.stop();

      expect(disk.events.filter((event) => event.kind === 'rename' && event.to === path).length).toBeGreaterThan(3);
      checkCompactionOrder(path);

      // Every cut next to a rename, a deletion or a directory fsync, and a sample of the others.
      const chosen = cuts.filter((cut, i) => cut.event !== 'fsync' || i % 12 === 0);
      expect(chosen.length).toBeGreaterThan(30);
      for (const cut of chosen) {
        const after = fresh();
        materialize(cut.state, after);
        const warnings: string[] = [];
        const reopened = await CheckpointManager.open({ path: join(after, `checkpoint.${format}`), pipeline: 'power', logger: { warn: (message: string) => warnings.push(message), error: (message: string) => warnings.push(message) } });
        const missing = acked.slice(0, cut.acked).filter((item) => !reopened.isItemCompleted('work', item));
        await reopened.close();
        expect(missing, `cut after a ${cut.event} with ${cut.acked} acknowledged`).toEqual([]);
        expect(warnings.filter((warning) => /backup|damaged/.test(warning))).toEqual([]);
        rmSync(after, { recursive: true, force: true });
      }
    });
  }
});

/**
 * Each new snapshot: its temp file fsynced before the rename onto the checkpoint, and the
 * directory fsynced after the rename and before a journal it replaces is deleted.
 */
function checkCompactionOrder(path: string): void {
  const events = disk.events;
  events.forEach((event, i) => {
    if (event.kind !== 'rename' || event.to !== path) return;
    const synced = events.slice(0, i).some((before) => before.kind === 'fsync' && before.ino === event.ino);
    expect(synced, `snapshot renamed into place at event ${i} before its data was fsynced`).toBe(true);
    const next = events.slice(i + 1);
    const directorySync = next.findIndex((after) => after.kind === 'dir-sync');
    const deletion = next.findIndex((after) => after.kind === 'unlink' && /\.journal\.sealed-\d+$/.test(after.file));
    if (deletion !== -1) expect(directorySync, `sealed journal deleted before the directory fsync after event ${i}`).toBeGreaterThanOrEqual(0);
    if (deletion !== -1) expect(directorySync).toBeLessThan(deletion);
  });
}
