import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { CheckpointStoreError } from '../../src/index.js';
import { writeSnapshot } from '../../src/stores/file/snapshot-file.js';
import { jsonFormat } from '../../src/stores/file/snapshot-formats.js';
import { filesIn, open, openHearing, tempDir, twoRuns } from './helpers.js';

/** Files a person might keep beside a checkpoint, with names like the library's own temporary files. */
const USER_FILES = ['cp.json.1', 'cp.json.20240101', 'cp.json.journal.7', 'cp.json.journal.123456789', 'cp.json.bak.notes'];

function writeUserFiles(directory: string): void {
  for (const name of USER_FILES) writeFileSync(join(directory, name), `mine: ${name}\n`);
}

function expectUserFilesIntact(directory: string): void {
  for (const name of USER_FILES) expect(readFileSync(join(directory, name), 'utf8')).toBe(`mine: ${name}\n`);
}

describe('files beside the checkpoint that the library did not create', () => {
  it('survive open, compaction, close and complete', async () => {
    const directory = tempDir();
    const path = join(directory, 'cp.json');
    writeUserFiles(directory);
    let cp = await open({ path, minCompactBytes: 1 });
    expectUserFilesIntact(directory);
    for (let i = 0; i < 40; i++) {
      await cp.markItemCompleted('s', `item-${i}`);
      if (i % 10 === 9) await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await cp.close();
    expectUserFilesIntact(directory);
    cp = await open({ path });
    expect(cp.isItemCompleted('s', 'item-39')).toBe(true);
    await cp.markItemCompleted('s', 'last');
    await cp.close();
    expectUserFilesIntact(directory);
    cp = await open({ path });
    await cp.complete({ force: true });
    expectUserFilesIntact(directory);
    expect(filesIn(directory)).toEqual([...USER_FILES].sort());
  });

  it('a user file named like a sealed journal is not read as one', async () => {
    const directory = tempDir();
    const path = join(directory, 'cp.json');
    const cp = await open({ path });
    await cp.markItemCompleted('s', 'a');
    await cp.close();
    // A valid journal line under the old sealed name: it must not be replayed (nor deleted).
    const line = readFileSync(`${path}.journal`, 'utf8');
    writeFileSync(`${path}.journal.7`, line);
    const again = await open({ path });
    expect(again.isItemCompleted('s', 'a')).toBe(true);
    await again.close();
    expect(readFileSync(`${path}.journal.7`, 'utf8')).toBe(line);
  });

  it('directories named like sealed journals and backups are neither read nor removed', async () => {
    const directory = tempDir();
    const path = join(directory, 'cp.json');
    const names = ['cp.json.journal.sealed-1', 'cp.json.bak', 'cp.json.bak.1', 'cp.json.checkpointer-next.3'];
    for (const name of names) {
      mkdirSync(join(directory, name));
      writeFileSync(join(directory, name, 'mine.txt'), 'mine');
    }
    let cp = await open({ path, minCompactBytes: 1 });
    for (let i = 0; i < 30; i++) await cp.markItemCompleted('s', `item-${i}`);
    await cp.close();
    cp = await open({ path });
    expect(cp.isItemCompleted('s', 'item-29')).toBe(true);
    await cp.complete({ force: true });
    for (const name of names) expect(readFileSync(join(directory, name, 'mine.txt'), 'utf8')).toBe('mine');
  });

  it('a directory where the library stages its next file is a typed error naming it, and is kept', async () => {
    const directory = tempDir();
    const path = join(directory, 'cp.json');
    mkdirSync(`${path}.checkpointer-next`);
    writeFileSync(join(`${path}.checkpointer-next`, 'mine.txt'), 'mine');
    const error = await open({ path }).then(() => undefined, (thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(CheckpointStoreError);
    expect((error as Error).message).toContain(`${path}.checkpointer-next`);
    expect(readFileSync(join(`${path}.checkpointer-next`, 'mine.txt'), 'utf8')).toBe('mine');
  });

  it("the library's own leftovers are removed at open: staging files and their temporary files", async () => {
    const directory = tempDir();
    const path = join(directory, 'cp.json');
    let cp = await open({ path });
    await cp.markItemCompleted('s', 'a');
    await cp.close();
    const leftovers = ['cp.json.checkpointer-next', 'cp.json.checkpointer-next.2837465', 'cp.json.journal.checkpointer-next', 'cp.json.journal.checkpointer-next.99'];
    for (const name of leftovers) writeFileSync(join(directory, name), 'half-written');
    writeUserFiles(directory);
    cp = await open({ path });
    expect(cp.isItemCompleted('s', 'a')).toBe(true);
    const names = filesIn(directory);
    for (const name of leftovers) expect(names).not.toContain(name);
    expectUserFilesIntact(directory);
    await cp.close();
  });

  it('writeSnapshot calls beforeReplace right before the snapshot is replaced, and stops if it throws', async () => {
    const directory = tempDir();
    const path = join(directory, 'cp.json');
    const cp = await open({ path });
    await cp.markItemCompleted('s', 'a');
    await cp.close();
    const before = readFileSync(path, 'utf8');
    const { sequence: _sequence, checksum: _checksum, ...document } = JSON.parse(before) as Parameters<typeof writeSnapshot>[2] & { sequence?: number; checksum?: string };
    let seen: string | undefined;
    await writeSnapshot(path, jsonFormat, document, 99, 0, () => {
      seen = readFileSync(path, 'utf8');
    });
    expect(seen).toBe(before);
    expect(readFileSync(path, 'utf8')).toContain('"sequence": 99');
    const now = readFileSync(path, 'utf8');
    await expect(writeSnapshot(path, jsonFormat, document, 100, 0, () => {
      throw new Error('lock lost');
    })).rejects.toThrow('lock lost');
    expect(readFileSync(path, 'utf8')).toBe(now);
    expect(filesIn(directory).filter((name) => name.includes('checkpointer-next'))).toEqual([]);
  });
});

describe('files named like what the library keeps aside', () => {
  it("a person's file with the name a damaged snapshot would be moved to stays as it is; the snapshot goes beside it", async () => {
    const directory = tempDir();
    const path = join(directory, 'cp.json');
    await twoRuns(path);
    const damaged = readFileSync(path, 'utf8').replace('"c"', '"C"');
    writeFileSync(path, damaged);
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-12-06T12:00:00.000Z') });
    try {
      const taken = `${path}.corrupt-2026-12-06T12-00-00-000Z`;
      writeFileSync(taken, 'mine');
      writeFileSync(`${taken}-2`, 'mine too');
      const { cp, recovered } = await openHearing({ path });
      await cp.close();
      expect(recovered[0]?.movedTo).toBe(`${taken}-3`);
      expect(readFileSync(taken, 'utf8')).toBe('mine');
      expect(readFileSync(`${taken}-2`, 'utf8')).toBe('mine too');
      expect(readFileSync(`${taken}-3`, 'utf8')).toBe(damaged);
    } finally {
      vi.useRealTimers();
    }
  });
});
