import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findBackups } from '../../src/stores/file/snapshot-file.js';
import { open, tempDir } from './helpers.js';

interface Snapshot {
  steps: Record<string, { completedItems: string[] }>;
}

/** The completed items of step `s` in each backup on disk, newest first. */
function backupItems(path: string): string[][] {
  return findBackups(path).map(({ path: backup }) => (JSON.parse(readFileSync(backup, 'utf8')) as Snapshot).steps.s?.completedItems ?? []);
}

async function run(path: string, items: string[], options: Record<string, unknown> = {}): Promise<void> {
  const cp = await open({ path, ...options });
  for (const item of items) await cp.markItemCompleted('s', item);
  await cp.close();
}

describe('backups protect progress, never an empty checkpoint', () => {
  it('one run with items and a close leaves no backup of the empty first snapshot', async () => {
    const path = join(tempDir(), 'checkpoint.json');
    await run(path, ['a', 'b']);
    expect(existsSync(`${path}.bak`)).toBe(false);
    expect(backupItems(path)).toEqual([]);
    expect((JSON.parse(readFileSync(path, 'utf8')) as Snapshot).steps.s!.completedItems).toEqual(['a', 'b']);
  });

  it('each later run keeps the run before it, and every backup holds items', async () => {
    const path = join(tempDir(), 'checkpoint.json');
    await run(path, ['a']);
    await run(path, ['b']);
    expect(backupItems(path)).toEqual([['a']]);
    await run(path, ['c']);
    await run(path, ['d']);
    expect(backupItems(path)).toEqual([['a', 'b', 'c'], ['a', 'b'], ['a']]);
    await run(path, ['e']);
    expect(backupItems(path)).toEqual([['a', 'b', 'c', 'd'], ['a', 'b', 'c'], ['a', 'b']]);
  });

  it('a reset keeps the progress it discards as the backup, and the empty snapshot after it is not backed up over it', async () => {
    const path = join(tempDir(), 'checkpoint.json');
    await run(path, ['a', 'b']);
    const cp = await open({ path });
    await cp.resetAll();
    await cp.close();
    expect(backupItems(path)).toEqual([['a', 'b']]);
    await run(path, ['x']);
    expect(backupItems(path)).toEqual([['a', 'b']]);
    await run(path, ['y']);
    expect(backupItems(path)).toEqual([['x'], ['a', 'b']]);
  });

  it("onConfigChange: 'restart' keeps the old run as the backup", async () => {
    const path = join(tempDir(), 'checkpoint.json');
    await run(path, ['a'], { config: { model: 'small' } });
    await run(path, ['z'], { config: { model: 'large' }, onConfigChange: 'restart' });
    expect(backupItems(path)[0]).toEqual(['a']);
  });

  it('stages, context or counters alone are progress worth a backup', async () => {
    const path = join(tempDir(), 'checkpoint.json');
    const first = await open({ path });
    await first.increment('cost', 2);
    await first.close();
    await run(path, ['a']);
    expect(findBackups(path)).toHaveLength(1);
    expect((JSON.parse(readFileSync(`${path}.bak`, 'utf8')) as { counters: Record<string, number> }).counters).toEqual({ cost: 2 });
  });
});
