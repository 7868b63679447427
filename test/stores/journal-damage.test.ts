/**
 * A journal damaged after its records were acknowledged — by an editor, a copy that converted its
 * line endings, a flipped bit, a zeroed block — must never lose those records without a word:
 * only what a crash can leave (a last line cut short, lines of zero bytes at the end) is dropped,
 * and even those bytes are kept aside before the journal is rewritten.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { CheckpointCorruptError, CheckpointStoreError } from '../../src/core/errors.js';
import type { Durability } from '../../src/stores/write-batcher.js';
import { crc32 } from '../../src/stores/file/crc32.js';
import { validateCheckpoint } from '../../src/cli/validate-command.js';
import { filesIn, open, openRecorded, tempDir } from './helpers.js';

const KEYS = Array.from({ length: 200 }, (_, i) => `doc-${String(i).padStart(4, '0')}`);

/**
 * A checkpoint whose marks are all in its journal, as a kill -9 after the last acknowledged mark
 * leaves it (close() would fold them into the snapshot, so the files are put back after it).
 */
async function leftByKill(durability: Durability = 'full'): Promise<{ path: string; journal: Buffer }> {
  const path = join(tempDir(), 'cp.json');
  const writer = await open({ path, durability, minCompactBytes: 1 << 30 });
  for (const key of KEYS) await writer.markItemCompleted('s', key);
  const journal = readFileSync(`${path}.journal`);
  const snapshot = readFileSync(path);
  await writer.close();
  writeFileSync(path, snapshot);
  writeFileSync(`${path}.journal`, journal);
  return { path, journal };
}

const corruptCopies = (path: string): string[] => filesIn(join(path, '..')).filter((name) => name.startsWith('cp.json.journal.corrupt-'));

async function openError(path: string): Promise<CheckpointCorruptError> {
  const error = await open({ path }).then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(CheckpointCorruptError);
  return error as CheckpointCorruptError;
}

describe('a journal damaged after its records were acknowledged', () => {
  it('with CRLF line endings (a copy or an editor converted them) keeps every record, and is rewritten with LF', async () => {
    const { path, journal } = await leftByKill();
    writeFileSync(`${path}.journal`, journal.toString('latin1').replaceAll('\n', '\r\n'), 'latin1');
    const { cp, logs } = await openRecorded({ path });
    expect(cp.pendingItems('s', KEYS)).toEqual([]);
    expect(logs).toEqual([]);
    expect(readFileSync(`${path}.journal`, 'latin1')).not.toContain('\r');
    await cp.markItemCompleted('s', 'after');
    await cp.close();
    const again = await open({ path });
    expect(again.pendingItems('s', [...KEYS, 'after'])).toEqual([]);
  });

  it('with a bit flipped in a complete line near the end is an error naming the line, and nothing is changed', async () => {
    const { path, journal } = await leftByKill();
    const damaged = Buffer.from(journal);
    // A bit of the second-to-last record, then the last one cut short as well.
    const lines = journal.toString('latin1').split('\n');
    const secondToLast = journal.length - lines.at(-2)!.length - lines.at(-3)!.length - 2;
    damaged[secondToLast + 20]! ^= 0x04;
    const written = damaged.subarray(0, damaged.length - 5);
    writeFileSync(`${path}.journal`, written);
    const error = await openError(path);
    expect(error.location).toBe(`${path}.journal`);
    expect(error.problems[0]).toEqual({ path: `line ${KEYS.length - 1}`, message: 'damaged record (checksum mismatch)' });
    expect(error.message).toContain('validate');
    expect(readFileSync(`${path}.journal`).equals(written)).toBe(true);
    expect(corruptCopies(path)).toEqual([]);
    const report = await validateCheckpoint(path);
    expect(report.valid).toBe(false);
  });

  it('with its last complete line damaged is an error, not a torn write', async () => {
    const { path, journal } = await leftByKill();
    const text = journal.toString('latin1');
    writeFileSync(`${path}.journal`, `${text.slice(0, -12)}"xyz"}\n`, 'latin1');
    const error = await openError(path);
    expect(error.problems[0]?.path).toBe(`line ${KEYS.length}`);
  });

  it('with its last block zeroed after `full` marks opens, says how much it dropped, and keeps those bytes aside', async () => {
    const { path, journal } = await leftByKill('full');
    const zeroed = Buffer.from(journal);
    zeroed.fill(0, zeroed.length - 4096);
    writeFileSync(`${path}.journal`, zeroed);
    const lastGood = zeroed.lastIndexOf(0x0a, zeroed.length - 4096) + 1;
    const kept = KEYS.filter((key) => zeroed.subarray(0, lastGood).includes(`"${key}"`));
    const { cp, logs } = await openRecorded({ path });
    expect(cp.pendingItems('s', KEYS)).toEqual(KEYS.filter((key) => !kept.includes(key)));
    expect(logs.join('\n')).toMatch(/dropped 1 torn record\(s\) at the end of the journal .*; its \d+ byte\(s\) are kept in .*cp\.json\.journal\.corrupt-/);
    const [copy] = corruptCopies(path);
    expect(copy).toBeDefined();
    expect(readFileSync(join(path, '..', copy!)).equals(zeroed.subarray(lastGood))).toBe(true);
  });

  it('with a lost block followed by good records (zero bytes mid-file) is an error', async () => {
    const { path, journal } = await leftByKill();
    const zeroed = Buffer.from(journal);
    zeroed.fill(0, 4096, 8192);
    writeFileSync(`${path}.journal`, zeroed);
    const error = await openError(path);
    expect(error.problems[0]?.message).toBe('torn record (cut short, or zero bytes) followed by valid records');
  });

  it('with one zero byte in its last complete line (a flipped bit, not a lost block) is an error', async () => {
    const { path, journal } = await leftByKill();
    const flipped = Buffer.from(journal);
    flipped[flipped.length - 30] = 0;
    writeFileSync(`${path}.journal`, flipped);
    const error = await openError(path);
    expect(error.problems[0]).toEqual({ path: `line ${KEYS.length}`, message: 'damaged record (checksum mismatch)' });
  });

  it('with CR line endings (no LF at all) is an error, not one torn line', async () => {
    const { path, journal } = await leftByKill();
    const converted = journal.toString('latin1').replaceAll('\n', '\r');
    writeFileSync(`${path}.journal`, converted, 'latin1');
    const error = await openError(path);
    expect(error.problems[0]?.path).toBe('line 1');
    expect(readFileSync(`${path}.journal`, 'latin1')).toBe(converted);
    expect(corruptCopies(path)).toEqual([]);
  });

  it('with CRLF endings and its last LF cut off keeps the last record', async () => {
    const { path, journal } = await leftByKill();
    writeFileSync(`${path}.journal`, journal.toString('latin1').replaceAll('\n', '\r\n').slice(0, -1), 'latin1');
    const { cp, logs } = await openRecorded({ path });
    expect(cp.pendingItems('s', KEYS)).toEqual([]);
    expect(logs).toEqual([]);
  });

  it('with the case of a checksum digit flipped (bit 5) is an error', async () => {
    const { path, journal } = await leftByKill();
    const flipped = Buffer.from(journal);
    // The first checksum digit that is a letter, made uppercase; or a digit made a control character.
    const at = flipped.subarray(0, 8).findIndex((byte) => byte >= 0x61);
    flipped[at === -1 ? 0 : at]! ^= 0x20;
    writeFileSync(`${path}.journal`, flipped);
    const error = await openError(path);
    expect(error.problems[0]?.path).toBe('line 1');
  });

  it('torn, then opened without the lock and no holder: read, every write refused (it would land after the torn bytes) until an open with the lock repairs it', async () => {
    const { path, journal } = await leftByKill();
    const torn = journal.subarray(0, -7);
    writeFileSync(`${path}.journal`, torn);
    const reader = await open({ path, lock: false });
    expect(reader.pendingItems('s', KEYS)).toEqual([KEYS.at(-1)]);
    const refused = await reader.markItemCompleted('s', 'new-1').then(() => undefined, (error: unknown) => error);
    expect(refused).toBeInstanceOf(CheckpointStoreError);
    expect((refused as Error).message).toContain('its journal ends in a torn write');
    await reader.close();
    expect(readFileSync(`${path}.journal`).equals(torn)).toBe(true);
    expect(corruptCopies(path)).toEqual([]);
    const writer = await open({ path });
    await writer.markItemCompleted('s', 'new-1');
    await writer.close();
    const again = await open({ path, lock: false });
    expect(again.pendingItems('s', [...KEYS, 'new-1'])).toEqual([KEYS.at(-1)]);
    await again.markItemCompleted('s', 'new-2');
    expect(corruptCopies(path)).toHaveLength(1);
  });

  it('whose last record lost its newline, opened without the lock: read in full, writes refused', async () => {
    const { path, journal } = await leftByKill();
    writeFileSync(`${path}.journal`, journal.subarray(0, -1));
    const reader = await open({ path, lock: false });
    expect(reader.pendingItems('s', KEYS)).toEqual([]);
    await expect(reader.markItemCompleted('s', 'new')).rejects.toBeInstanceOf(CheckpointStoreError);
  });

  it("never replaces a file already named like the copy it keeps aside (a person's, or one kept in the same millisecond)", async () => {
    const { path, journal } = await leftByKill();
    writeFileSync(`${path}.journal`, journal.subarray(0, -7));
    const now = new Date('2026-12-06T12:00:00.000Z');
    vi.useFakeTimers({ toFake: ['Date'], now });
    try {
      const taken = `${path}.journal.corrupt-2026-12-06T12-00-00-000Z`;
      writeFileSync(taken, 'a person\'s notes');
      const { logs } = await openRecorded({ path });
      expect(readFileSync(taken, 'utf8')).toBe('a person\'s notes');
      expect(logs.join('\n')).toContain(`kept in ${taken}-2`);
      expect(readFileSync(`${taken}-2`).equals(journal.subarray(journal.lastIndexOf(0x0a, journal.length - 2) + 1, -7))).toBe(true);
    } finally {
      vi.useRealTimers();
    }
  });

  it('with a blank line at the end (an editor) keeps every record without a warning', async () => {
    const { path, journal } = await leftByKill();
    writeFileSync(`${path}.journal`, `${journal.toString('latin1')}\n`, 'latin1');
    const { cp, logs } = await openRecorded({ path });
    expect(cp.pendingItems('s', KEYS)).toEqual([]);
    expect(logs).toEqual([]);
  });

  it('whose last record lost its newline (an editor) keeps that record, and later records go on their own lines', async () => {
    const { path, journal } = await leftByKill();
    writeFileSync(`${path}.journal`, journal.subarray(0, -1));
    const { cp, logs } = await openRecorded({ path });
    expect(cp.pendingItems('s', KEYS)).toEqual([]);
    expect(logs).toEqual([]);
    await cp.markItemCompleted('s', 'after');
    const again = readFileSync(`${path}.journal`, 'latin1');
    expect(again.endsWith('\n')).toBe(true);
    expect(again.split('\n').filter(Boolean)).toHaveLength(KEYS.length + 1);
  });

  it('a record whose checksum matches but whose sequence is not a number is refused with what is wrong', async () => {
    const { path, journal } = await leftByKill();
    const json = '{"n":"8","op":"item","step":"s","key":"x","status":"completed","attempts":1,"at":1}';
    writeFileSync(`${path}.journal`, `${journal.toString('latin1')}${crc32(json).toString(16).padStart(8, '0')} ${json}\n`, 'latin1');
    const error = await openError(path);
    expect(error.location).toBe(`${path}.journal line ${KEYS.length + 1}`);
    expect(error.problems[0]).toEqual({ path: 'n', message: 'expected a sequence number (a non-negative integer), received "8"' });
  });

  it('a torn tail read without the lock beside a running holder is only reported: no copy is written, nothing is cut', async () => {
    const { path } = await leftByKill();
    const holder = await open({ path });
    // What a reader may see while the holder is in the middle of a write: the start of a record.
    appendFileSync(`${path}.journal`, '0badf00d {"n":999,"op":"item"');
    const before = readFileSync(`${path}.journal`);
    const { cp, logs } = await openRecorded({ path, lock: false });
    expect(cp.pendingItems('s', KEYS)).toEqual([]);
    expect(logs.join('\n')).toMatch(/dropped 1 torn record\(s\) at the end of the journal \(a write cut short by a crash\)$/m);
    expect(corruptCopies(path)).toEqual([]);
    expect(readFileSync(`${path}.journal`).equals(before)).toBe(true);
    await cp.close();
    await holder.close();
  });
});
