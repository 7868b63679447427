import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointCorruptError } from '../../src/core/errors.js';
import { crc32 } from '../../src/stores/file/crc32.js';
import { JsonFileStore } from '../../src/stores/file/file-store.js';
import { filesIn, open, openRecorded, openStore, tempDir } from './helpers.js';

const journalLines = (file: string): string[] => readFileSync(`${file}.journal`, 'utf8').split('\n').filter(Boolean);

describe('file store journal', () => {
  it('a mark appends one checksummed line; a second store replays it before any compaction', async () => {
    const path = join(tempDir(), 'cp.json');
    const writer = await open({ path });
    for (const item of ['a', 'b', 'c']) await writer.markItemCompleted('s', item);
    // The snapshot written at open knows nothing of the marks: they live in the journal only.
    expect(readFileSync(path, 'utf8')).not.toContain('"b"');
    const lines = journalLines(path);
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/^[0-9a-f]{8} \{"n":\d+,"op":"item","step":"s","key":"a","status":"completed"/);

    const store = new JsonFileStore(path, { lock: false });
    const { loaded } = await openStore(store);
    expect([...(loaded?.changes ?? [])].map((change) => (change.op === 'item' ? change.key : change.op))).toEqual(['a', 'b', 'c']);
    await store.close();

    const reader = await open({ path, lock: false });
    expect(reader.pendingItems('s', ['a', 'b', 'c', 'd'])).toEqual(['d']);
    await reader.close();
    await writer.close();
  });

  it('a lock: false reader never compacts, so the writer\'s later marks are not lost', async () => {
    const path = join(tempDir(), 'cp.json');
    const writer = await open({ path });
    await writer.markItemCompleted('s', 'a');
    const reader = await open({ path, lock: false });
    await reader.close();
    await writer.markItemCompleted('s', 'b');
    // As if the writer were killed now: what is on disk must hold both marks.
    const afterCrash = await open({ path, lock: false });
    expect(afterCrash.isItemCompleted('s', 'a')).toBe(true);
    expect(afterCrash.isItemCompleted('s', 'b')).toBe(true);
    await afterCrash.close();
    await writer.close();
  });

  it('a torn last record is dropped with a warning; the rest is kept', async () => {
    const path = join(tempDir(), 'cp.json');
    const writer = await open({ path });
    await writer.markItemCompleted('s', 'a');
    await writer.markItemCompleted('s', 'b');
    // The files as a kill would leave them: close() would compact, so put them back after it.
    const journal = readFileSync(`${path}.journal`, 'utf8');
    const snapshot = readFileSync(path, 'utf8');
    await writer.close();
    // A crash mid-write: the first part of a third record, no newline.
    const torn = journal.split('\n')[1]!.replace('"b"', '"c"');
    writeFileSync(path, snapshot);
    writeFileSync(`${path}.journal`, `${journal}${torn.slice(0, torn.length - 10)}`);
    const { cp, logs } = await openRecorded({ path });
    expect(cp.isItemCompleted('s', 'a')).toBe(true);
    expect(cp.isItemCompleted('s', 'b')).toBe(true);
    expect(cp.isItemCompleted('s', 'c')).toBe(false);
    expect(logs.join('\n')).toMatch(/dropped 1 torn record/);
    // The journal was rewritten without the torn tail, so new records follow good ones.
    await cp.markItemCompleted('s', 'd');
    await cp.close();
    const again = await open({ path });
    expect(again.pendingItems('s', ['a', 'b', 'c', 'd'])).toEqual(['c']);
  });

  it('a damaged record followed by valid ones is corruption, not a torn write', async () => {
    const path = join(tempDir(), 'cp.json');
    const cp = await open({ path });
    for (const item of ['a', 'b', 'c']) await cp.markItemCompleted('s', item);
    const lines = journalLines(path);
    const before = readFileSync(path, 'utf8');
    // Keep the journal as it is on disk without letting close() compact it.
    const saved = readFileSync(`${path}.journal`, 'utf8');
    await cp.close();
    writeFileSync(path, before);
    writeFileSync(`${path}.journal`, saved.replace(lines[1]!, lines[1]!.replace('"b"', '"B"')));
    const error = await open({ path }).then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(CheckpointCorruptError);
    expect((error as CheckpointCorruptError).location).toBe(`${path}.journal`);
    expect((error as Error).message).toContain('line 2');
    expect((error as Error).message).toContain('damaged record (checksum mismatch)');
    // Nothing was moved or deleted.
    expect(readFileSync(`${path}.journal`, 'utf8')).toContain('"B"');
  });

  it('a record with a good checksum but invalid content names the journal line', async () => {
    const path = join(tempDir(), 'cp.json');
    const cp = await open({ path });
    await cp.close();
    const json = '{"n":5,"op":"item","step":"s","key":"k","status":"exploded","attempts":1,"at":1}';
    appendFileSync(`${path}.journal`, `${crc32(json).toString(16).padStart(8, '0')} ${json}\n`);
    const error = await open({ path }).then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(CheckpointCorruptError);
    expect((error as Error).message).toContain('cp.json.journal line 1');
    expect((error as CheckpointCorruptError).problems[0]?.path).toBe('status');
  });

  it('by default, the journal is compacted only once it passes 4 MiB (a small checkpoint is not rewritten every few thousand marks)', async () => {
    const directory = tempDir();
    const path = join(directory, 'cp.json');
    const { cp, events } = await openRecorded({ path, snapshotIntervalMs: 0 });
    const outgrown = (): number => events.flush.filter((event) => event.reason === 'journal outgrew the snapshot').length;
    const journalBytes = (): number => statSync(`${path}.journal`).size;
    let marks = 0;
    const mark = (): Promise<void> => cp.markItemCompleted('s', `doc/${String(marks++).padStart(7, '0')}.json`);
    // Up to 64 KiB short of 4 MiB: no compaction, however long the snapshot (a few hundred bytes) has been outgrown.
    while (journalBytes() < 4 * 1024 * 1024 - 64 * 1024) await mark();
    await cp.flush();
    expect(outgrown()).toBe(0);
    expect(filesIn(directory).filter((name) => /journal\.sealed-\d+$/.test(name))).toEqual([]);
    expect(readFileSync(path, 'utf8')).not.toContain('doc/0000000.json');
    // Past 4 MiB the next mark starts one.
    const compacted = new Promise<void>((resolve) => cp.on('flush', (event) => event.reason === 'journal outgrew the snapshot' && resolve()));
    while (outgrown() === 0 && journalBytes() < 4 * 1024 * 1024 + 64 * 1024) await mark();
    await compacted;
    expect(readFileSync(path, 'utf8')).toContain('doc/0000000.json');
  });

  it('compaction (small minCompactBytes) writes a snapshot and removes sealed journals', async () => {
    const directory = tempDir();
    const path = join(directory, 'cp.json');
    const { cp, events } = await openRecorded({ path, minCompactBytes: 1, backups: 2 });
    // A sealed journal is on disk exactly while a compaction runs: it is deleted just before the
    // compaction's flush event, with no await between the two.
    const sealed = (): string[] => filesIn(directory).filter((name) => /journal\.sealed-\d+$/.test(name));
    const compactionsDone = async (): Promise<void> => {
      while (sealed().length > 0) {
        await new Promise<void>((resolve) => {
          const off = cp.on('flush', () => {
            off();
            resolve();
          });
        });
      }
    };
    // Marks do not wait for a compaction: let each batch's compaction finish so that several run.
    for (let i = 0; i < 50; i++) {
      await cp.markItemCompleted('s', `item-${i}`);
      if (i % 10 === 9) await compactionsDone();
    }
    await cp.flush();
    await compactionsDone();
    expect(events.flush.filter((event) => event.reason === 'journal outgrew the snapshot').length).toBeGreaterThan(1);
    const snapshot = JSON.parse(readFileSync(path, 'utf8')) as { sequence: number; steps: { s: { completedItems: string[] } } };
    expect(snapshot.steps.s.completedItems.length).toBeGreaterThan(10);
    expect(snapshot.sequence).toBeGreaterThan(10);
    // Sealed journals (cp.json.journal.sealed-<n>) are gone once their snapshot is written.
    expect(sealed()).toEqual([]);
    await cp.close();
    expect(filesIn(directory)).toEqual(['cp.json', 'cp.json.bak', 'cp.json.bak.1', 'cp.json.journal']);
    expect(readFileSync(`${path}.journal`, 'utf8')).toBe('');
    const final = JSON.parse(readFileSync(path, 'utf8')) as { steps: { s: { completedItems: string[] } } };
    expect(final.steps.s.completedItems).toHaveLength(50);
  });

  it('.bak rotation keeps exactly `backups` copies, newest first', async () => {
    for (const backups of [0, 1, 3]) {
      const directory = tempDir();
      const path = join(directory, 'cp.json');
      for (let run = 0; run < 6; run++) {
        const cp = await open({ path, backups });
        await cp.increment('runs');
        await cp.close();
      }
      const expected = ['cp.json', 'cp.json.bak', 'cp.json.bak.1', 'cp.json.bak.2'].slice(0, backups + 1);
      expect(filesIn(directory).filter((name) => name !== 'cp.json.journal')).toEqual(expected);
      const runs = (file: string): number => (JSON.parse(readFileSync(join(directory, file), 'utf8')) as { counters: { runs?: number } }).counters.runs ?? 0;
      expect(runs('cp.json')).toBe(6);
      if (backups >= 1) expect(runs('cp.json.bak')).toBe(5);
      if (backups >= 3) expect(runs('cp.json.bak.2')).toBe(3);
    }
  });

  it('batched durability writes nothing until a batch fills, and everything on close', async () => {
    const path = join(tempDir(), 'cp.json');
    const cp = await open({ path, durability: 'batched', batchSize: 5, batchIntervalMs: 60_000 });
    for (const item of ['a', 'b', 'c']) await cp.markItemCompleted('s', item);
    expect(journalLines(path)).toHaveLength(0);
    for (const item of ['d', 'e', 'f']) await cp.markItemCompleted('s', item);
    expect(journalLines(path)).toHaveLength(5);
    await cp.close();
    const saved = JSON.parse(readFileSync(path, 'utf8')) as { steps: { s: { completedItems: string[] } } };
    expect(saved.steps.s.completedItems).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
  });

  it('batched durability writes a partial batch after batchIntervalMs', async () => {
    const path = join(tempDir(), 'cp.json');
    const cp = await open({ path, durability: 'batched', batchSize: 1000, batchIntervalMs: 50 });
    await cp.markItemCompleted('s', 'a');
    const deadline = Date.now() + 5000;
    while (journalLines(path).length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(journalLines(path)).toHaveLength(1);
    await cp.close();
  });

  it('complete() removes the snapshot, journal, backups and lock', async () => {
    const directory = tempDir();
    const path = join(directory, 'cp.json');
    for (let run = 0; run < 3; run++) {
      const cp = await open({ path });
      await cp.markItemCompleted('s', `item-${run}`);
      if (run < 2) await cp.close();
      else await cp.complete();
    }
    expect(filesIn(directory)).toEqual([]);
    expect(existsSync(`${path}.lock`)).toBe(false);
  });
});
