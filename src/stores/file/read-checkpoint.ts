import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CheckpointCorruptError } from '../../core/errors.js';
import type { CheckpointChange, CheckpointDocument } from '../../core/model.js';
import { readOwner } from './lock-owner.js';
import { readJournal, sealedJournals } from './journal.js';
import { findBackups, readSnapshotOrBackup } from './snapshot-file.js';
import { snapshotFormatFor } from './snapshot-formats.js';

export { findBackups } from './snapshot-file.js';
export { snapshotFormatFor } from './snapshot-formats.js';

/** Who holds the lock of `file`, as recorded in `<file>.lock/owner.json`; `undefined` if nobody does, `{}` if the holder is not known. */
export function readLockHolder(file: string): { pid?: number; host?: string; since?: string } | undefined {
  const directory = `${resolve(file)}.lock`;
  if (!existsSync(directory)) return undefined;
  const owner = readOwner(directory);
  return owner ? { pid: owner.pid, host: owner.host, ...(owner.since ? { since: owner.since } : {}) } : {};
}

/** A checkpoint as read from disk, without writing or locking anything. */
export interface CheckpointOnDisk {
  /** The saved snapshot (or the backup that stands in for it). */
  document: CheckpointDocument;
  /** Journal changes made after that snapshot, in order. */
  changes: CheckpointChange[];
  /** The file the snapshot was read from: the checkpoint itself, or a backup. */
  snapshotFile: string;
  /** The last journal sequence the snapshot contains. */
  snapshotSequence: number;
  snapshotBytes: number;
  /** Why the checkpoint file itself could not be used, when a backup was read instead. */
  damage?: CheckpointCorruptError;
  journal: {
    /** The journal files that were read: sealed ones (left by an unfinished compaction) first. */
    files: string[];
    records: number;
    /** Damaged lines at the end of a journal (a write cut short by a crash); they are dropped. */
    tornLines: number;
    /** Sequence of the first record newer than the snapshot, if any. */
    firstNewSequence?: number;
  };
}

/**
 * Reads a file checkpoint the way FileStore.open does — snapshot plus journal replay, falling
 * back to the newest good backup when the snapshot is damaged — but never writes, renames or
 * locks anything, so that tools can look at a checkpoint while its pipeline is running.
 * Journals are read before the snapshot: a compaction running meanwhile only makes the snapshot
 * newer, and records it already contains are skipped by their sequence number.
 *
 * @returns `undefined` when there is no checkpoint at `path`
 * @throws CheckpointCorruptError when the checkpoint and all its backups are damaged
 */
export async function readCheckpoint(path: string): Promise<CheckpointOnDisk | undefined> {
  const file = resolve(path);
  const format = snapshotFormatFor(path);
  const journalPath = `${file}.journal`;
  const files = [...sealedJournals(journalPath), journalPath];
  const journals = await Promise.all(files.map((journal) => readJournal(journal)));
  const records = journals.flatMap((journal) => journal.records);
  const tornLines = journals.reduce((sum, journal) => sum + journal.tornLines, 0);

  const found = await readSnapshotOrBackup(file, format, findBackups(path).map((backup) => backup.path), records.length > 0);
  const { snapshot, damage } = found;
  const snapshotFile = found.from === file ? path : found.from;
  if (!snapshot) return undefined;

  const { sequence, ...document } = snapshot.content;
  const changes = records.filter((record) => record.sequence > sequence);
  return {
    document,
    changes: changes.map((record) => record.change),
    snapshotFile,
    snapshotSequence: sequence,
    snapshotBytes: snapshot.bytes,
    ...(damage ? { damage } : {}),
    journal: {
      files: files.filter((_, i) => journals[i]!.records.length > 0 || journals[i]!.tornLines > 0),
      records: records.length,
      tornLines,
      ...(changes[0] ? { firstNewSequence: changes[0].sequence } : {}),
    },
  };
}
