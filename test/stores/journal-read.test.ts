import fc from 'fast-check';
import { copyFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointCorruptError } from '../../src/core/errors.js';
import type { CheckpointChange } from '../../src/core/model.js';
import { validateCheckpoint } from '../../src/cli/validate-command.js';
import { encodeRecord, readJournal, sealedJournalName } from '../../src/stores/file/journal.js';
import { checkpointWithJournal, tempDir } from './helpers.js';

// readJournal reads a journal a chunk at a time into one buffer (1 MiB, grown for a longer line),
// and decodes each line in place: these journals cross chunks mid-line, with characters that are not ASCII.
const key = fc.oneof(
  fc.constantFrom('doc/0000001.json', 'é', '😀 emoji', 'a"b\\c', ''),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.integer({ min: 60_000, max: 140_000 }).map((length) => 'x'.repeat(length)),
);
const change = fc.oneof(
  { weight: 8, arbitrary: key.map((k): CheckpointChange => ({ op: 'item', step: 'enrich', key: k, status: 'completed', attempts: 1, at: 1_764_000_000_000 })) },
  { weight: 1, arbitrary: key.map((note): CheckpointChange => ({ op: 'item', step: 's', key: 'k', status: 'completed', attempts: 2, at: 5, result: { note } })) },
);

function journalOf(changes: readonly CheckpointChange[]): { file: string; text: string } {
  const file = join(tempDir(), 'cp.json.journal');
  const text = changes.map((c, i) => encodeRecord(i + 1, c)).join('');
  writeFileSync(file, text);
  return { file, text };
}

describe('reading a journal', () => {
  it('reads back every record of a journal of many pieces, long lines and any characters, and counts its bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(change, { minLength: 1, maxLength: 400 }), async (changes) => {
        const { file } = journalOf(changes);
        const read = await readJournal(file);
        expect([...read.records]).toEqual(changes.map((c, i) => ({ sequence: i + 1, change: c })));
        expect(read).toMatchObject({ validBytes: statSync(file).size, tornLines: 0 });
      }),
      { numRuns: 40 },
    );
  });

  it('drops a torn last record after pieces that are not ASCII, and counts the good bytes exactly', async () => {
    const changes: CheckpointChange[] = Array.from({ length: 3000 }, (_, i) => ({ op: 'item', step: 'enrich', key: i % 7 === 0 ? `ключ-${i}-😀` : `doc/${i}.json`, status: 'completed', attempts: 1, at: i }));
    const { file, text } = journalOf(changes);
    const torn = encodeRecord(3001, { op: 'item', step: 'enrich', key: 'é-last', status: 'completed', attempts: 1, at: 1 });
    writeFileSync(file, text + torn.slice(0, -7));
    const read = await readJournal(file);
    expect(read.records).toHaveLength(3000);
    expect(read.tornLines).toBe(1);
    expect(read.validBytes).toBe(Buffer.byteLength(text));
  });

  it('reads a line longer than its buffer, between lines that cross chunks, and drops a torn tail after them', async () => {
    const changes: CheckpointChange[] = [
      ...Array.from({ length: 9000 }, (_, i): CheckpointChange => ({ op: 'item', step: 'enrich', key: `doc/${i}.json`, status: 'completed', attempts: 1, at: i })),
      { op: 'item', step: 'enrich', key: 'y'.repeat(2_500_000), status: 'completed', attempts: 1, at: 1 },
      { op: 'item', step: 's', key: 'k', status: 'completed', attempts: 2, at: 5, result: { note: 'é'.repeat(1_200_000) } },
      ...Array.from({ length: 9000 }, (_, i): CheckpointChange => ({ op: 'item', step: 'enrich', key: `ключ/${i}`, status: 'failed', attempts: 2, at: i })),
    ];
    const { file, text } = journalOf(changes);
    const torn = encodeRecord(changes.length + 1, { op: 'item', step: 'enrich', key: 'z'.repeat(3_000_000), status: 'completed', attempts: 1, at: 1 });
    writeFileSync(file, text + torn.slice(0, -10));
    const read = await readJournal(file);
    expect([...read.records]).toEqual(changes.map((c, i) => ({ sequence: i + 1, change: c })));
    expect(read).toMatchObject({ validBytes: Buffer.byteLength(text), tornLines: 1, appendable: false });
    expect(read.tornTail?.toString()).toBe(torn.slice(0, -10));
  });

  it('a record damaged in a later chunk, with good records after it, is corruption naming its line', async () => {
    const changes: CheckpointChange[] = Array.from({ length: 3000 }, (_, i) => ({ op: 'item', step: 'enrich', key: `doc/${i}.json`, status: 'completed', attempts: 1, at: i }));
    const { file, text } = journalOf(changes);
    const lines = text.split('\n');
    lines[2400] = lines[2400]!.replace('doc/2400', 'doc/2401');
    writeFileSync(file, lines.join('\n'));
    const error = await readJournal(file).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CheckpointCorruptError);
    expect((error as CheckpointCorruptError).problems[0]?.path).toBe('line 2401');
  });

  it('validate reads a journal of 200,000 records, with a sealed journal a crash left holding the same ones, each record once', async () => {
    const items = 200_000;
    const path = await checkpointWithJournal('big', items, (i) => `doc/${i}.json`);
    // A kill between rewriting the journal at open and deleting the sealed journal it replaced.
    copyFileSync(`${path}.journal`, sealedJournalName(`${path}.journal`, 1));
    const report = await validateCheckpoint(path);
    expect(report.problems).toEqual([]);
    expect(report).toMatchObject({ valid: true, summary: { items, journalChanges: items } });
  });
});
