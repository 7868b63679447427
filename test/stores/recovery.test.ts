import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointCorruptError, CheckpointLockedError, CheckpointStoreError, CheckpointVersionError } from '../../src/core/errors.js';
import { JsonFileStore } from '../../src/stores/file/file-store.js';
import { filesIn, open, openRecorded, openStore, recoveredFrom, tempDir, twoRuns } from './helpers.js';

const fixture = (name: string): string => readFileSync(join(import.meta.dirname, '..', 'fixtures', 'corrupt', name), 'utf8');


async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => {
    throw new Error('expected open to fail');
  }, (error: unknown) => error);
}

describe('damaged checkpoint files', () => {
  it('a corrupt snapshot with a good .bak: recovered event, state from the backup, damaged file moved aside', async () => {
    const directory = tempDir();
    const path = join(directory, 'cp.json');
    await twoRuns(path);
    writeFileSync(path, '{"version": 1, "metadata": {');
    const { loaded, emitted } = await openStore(new JsonFileStore(path));
    const recovered = emitted.find((entry) => entry.event === 'recovered')?.payload as { from: string; movedTo: string; problems: { message: string }[] };
    expect(recovered.from).toBe(`${path}.bak`);
    expect(recovered.movedTo).toMatch(/cp\.json\.corrupt-\d{4}-\d\d-\d\dT/);
    expect(recovered.problems[0]?.message).toMatch(/not valid JSON/);
    expect(loaded?.document.steps['s']?.completedItems).toEqual(['a', 'b']);
    expect(readFileSync(recovered.movedTo, 'utf8')).toBe('{"version": 1, "metadata": {');
  });

  it('through the manager: the recovery is logged and the damaged file is never deleted', async () => {
    const directory = tempDir();
    const path = join(directory, 'cp.json');
    await twoRuns(path);
    writeFileSync(path, fixture('wrong-item-type.json'));
    const { cp, logs } = await openRecorded({ path });
    expect(recoveredFrom(logs)).toBe(true);
    expect(logs.join('\n')).toContain('expected string, received number');
    expect(cp.pendingItems('s', ['a', 'b', 'c'])).toEqual(['c']);
    await cp.markItemCompleted('s', 'c');
    await cp.close();
    const corrupt = filesIn(directory).filter((name) => name.startsWith('cp.json.corrupt-'));
    expect(corrupt).toHaveLength(1);
    expect(readFileSync(join(directory, corrupt[0]!), 'utf8')).toBe(fixture('wrong-item-type.json'));
    // The next run opens the repaired checkpoint without any recovery.
    const again = await openRecorded({ path });
    expect(recoveredFrom(again.logs)).toBe(false);
    expect(again.cp.pendingItems('s', ['a', 'b', 'c'])).toEqual([]);
  });

  it('a damaged newest backup is skipped for an older good one', async () => {
    const directory = tempDir();
    const path = join(directory, 'cp.json');
    await twoRuns(path);
    const cp = await open({ path });
    await cp.markItemCompleted('s', 'd');
    await cp.close();
    writeFileSync(path, 'garbage');
    writeFileSync(`${path}.bak`, 'garbage too');
    const { loaded, emitted } = await openStore(new JsonFileStore(path));
    expect((emitted.find((entry) => entry.event === 'recovered')?.payload as { from: string }).from).toBe(`${path}.bak.1`);
    expect(loaded?.document.steps['s']?.completedItems).toEqual(['a', 'b']);
  });

  it('no good backup: CheckpointCorruptError naming the file, and nothing is moved or deleted', async () => {
    const directory = tempDir();
    const path = join(directory, 'cp.json');
    const cp = await open({ path, backups: 0 });
    await cp.markItemCompleted('s', 'a');
    await cp.close();
    writeFileSync(path, fixture('wrong-item-type.json'));
    const before = filesIn(directory);
    const error = await failure(open({ path, backups: 0 }));
    expect(error).toBeInstanceOf(CheckpointCorruptError);
    expect((error as CheckpointCorruptError).location).toBe(path);
    expect((error as Error).message).toContain(`${path}: steps.enrich.completedItems[3] expected string`);
    expect(filesIn(directory)).toEqual(before);
    expect(readFileSync(path, 'utf8')).toBe(fixture('wrong-item-type.json'));
    // The lock was released: the same process can try again.
    expect(await failure(open({ path, backups: 0 }))).toBeInstanceOf(CheckpointCorruptError);
  });

  it("onCorrupt: 'restart' moves the damaged files aside and starts empty", async () => {
    const directory = tempDir();
    const path = join(directory, 'cp.json');
    await twoRuns(path);
    writeFileSync(path, 'not json');
    writeFileSync(`${path}.bak`, 'not json either');
    writeFileSync(`${path}.bak.1`, '[]');
    const { cp, logs } = await openRecorded({ path, onCorrupt: 'restart' });
    expect(cp.isItemCompleted('s', 'a')).toBe(false);
    expect(logs.join('\n')).toContain("onCorrupt: 'restart'");
    const moved = filesIn(directory).filter((name) => name.startsWith('cp.json.corrupt-'));
    expect(moved.length).toBeGreaterThanOrEqual(1);
    expect(moved.map((name) => readFileSync(join(directory, name), 'utf8'))).toContain('not json');
    await cp.markItemCompleted('s', 'z');
    await cp.close();
    expect((await open({ path })).isItemCompleted('s', 'z')).toBe(true);
  });

  it('a snapshot missing while its journal exists is damage, not a fresh start', async () => {
    const directory = tempDir();
    const path = join(directory, 'cp.json');
    const cp = await open({ path, backups: 0 });
    await cp.markItemCompleted('s', 'a');
    await cp.flush();
    const journal = readFileSync(`${path}.journal`, 'utf8');
    await cp.close();
    writeFileSync(`${path}.journal`, journal);
    rmSync(path);
    const error = await failure(open({ path, backups: 0 }));
    expect(error).toBeInstanceOf(CheckpointCorruptError);
    expect((error as Error).message).toContain('missing, but its journal exists');
  });

  it('a future format version gives CheckpointVersionError and is left alone', async () => {
    const path = join(tempDir(), 'cp.json');
    writeFileSync(path, fixture('future-version.json'));
    const error = await failure(open({ path }));
    expect(error).toBeInstanceOf(CheckpointVersionError);
    expect((error as Error).message).toContain('format version 99');
    expect(readFileSync(path, 'utf8')).toBe(fixture('future-version.json'));
  });

  it('a checkpoint path that is a directory gives CheckpointStoreError', async () => {
    const path = join(tempDir(), 'cp.json');
    mkdirSync(path);
    const error = await failure(open({ path, lock: false }));
    expect(error).toBeInstanceOf(CheckpointStoreError);
    expect((error as Error).message).toContain('is a directory');
    const locked = await failure(open({ path }));
    expect(locked).toBeInstanceOf(CheckpointStoreError);
  });
});

describe('lock', () => {
  it('a second open in the same process gives CheckpointLockedError naming this pid', async () => {
    const path = join(tempDir(), 'cp.json');
    const first = await open({ path });
    const error = await failure(open({ path }));
    expect(error).toBeInstanceOf(CheckpointLockedError);
    expect((error as CheckpointLockedError).pid).toBe(process.pid);
    expect((error as Error).message).toContain(`process ${process.pid}`);
    await first.close();
    expect(existsSync(`${path}.lock`)).toBe(false);
    const second = await open({ path });
    expect(second.closed).toBe(false);
  });

  it('lock: false opens while locked, and sees what the holder wrote', async () => {
    const path = join(tempDir(), 'cp.json');
    const holder = await open({ path });
    await holder.markItemCompleted('s', 'a');
    const reader = await open({ path, lock: false });
    expect(reader.isItemCompleted('s', 'a')).toBe(true);
    await reader.close();
    expect(existsSync(`${path}.lock`)).toBe(true);
    await holder.close();
  });

  it('lock: false beside a holder only reads: its marks are refused, so the holder\'s journal never forks', async () => {
    const path = join(tempDir(), 'cp.json');
    const holder = await open({ path });
    await holder.markItemCompleted('s', 'by-holder');
    const reader = await open({ path, lock: false });
    const error = await reader.markItemCompleted('s', 'by-reader').then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(CheckpointStoreError);
    expect((error as Error).message).toMatch(/lock: false.*holds the lock/);
    await reader.close();
    await holder.markItemCompleted('s', 'by-holder-after');
    await holder.close();
    const again = await open({ path });
    expect(['by-holder', 'by-holder-after', 'by-reader'].map((key) => again.isItemCompleted('s', key))).toEqual([true, true, false]);
    await again.close();
  });

  it('lock: false opened before a holder came stops writing once the holder is there', async () => {
    const path = join(tempDir(), 'cp.json');
    const early = await open({ path, lock: false });
    await early.markItemCompleted('s', 'before-the-holder');
    const holder = await open({ path });
    await expect(early.markItemCompleted('s', 'beside-the-holder')).rejects.toThrow(/lock: false.*holds the lock/);
    await holder.markItemCompleted('s', 'by-holder');
    await early.close();
    await holder.close();
    const again = await open({ path });
    expect(['before-the-holder', 'by-holder', 'beside-the-holder'].map((key) => again.isItemCompleted('s', key))).toEqual([true, true, false]);
    await again.close();
  });
});
