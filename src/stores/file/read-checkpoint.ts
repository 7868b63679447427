import { existsSync } from 'node:fs';
import type { CheckpointCorruptError } from '../../core/errors.js';
import type { CheckpointChange, CheckpointDocument } from '../../core/model.js';
import { JournalRecords, readJournal, sealedJournals } from './journal.js';
import { findBackups, readSnapshotOrBackup, type SnapshotOrBackup } from './snapshot-file.js';
import { snapshotFormatFor, type SnapshotFormat } from './snapshot-formats.js';

export { findBackups } from './snapshot-file.js';
export { snapshotFormatFor } from './snapshot-formats.js';
export { readLockHolder } from './lock-owner.js';

/** What a torn write left at the end of a journal file. */
export interface TornTail {
  file: string;
  bytes: Buffer;
}

/** What the files of a file checkpoint hold, read without writing, renaming or locking anything. */
export interface CheckpointFiles extends SnapshotOrBackup {
  /** The journal files looked at: the sealed ones (left by an unfinished compaction) first, then the journal. */
  journalFiles: string[];
  /** Those of `journalFiles` that hold records or torn lines. */
  journalFilesInUse: string[];
  /** Every valid record of the journal files, in order, each sequence number once. */
  records: JournalRecords;
  /** The records newer than the snapshot: the changes to replay over it. */
  changes: JournalRecords;
  /** Damaged lines at the end of a journal (a write cut short by a crash); they are dropped. */
  tornLines: number;
  /** The bytes those lines were, by journal file. */
  tornTails: TornTail[];
  /** Whether every journal file holds just its records, one line each. */
  journalsTidy: boolean;
  /** Whether a record appended to the journal would be read: it ends after a complete record. */
  journalAppendable: boolean;
  /** The last journal sequence the snapshot holds (0 without one). */
  since: number;
  /** The last sequence number the snapshot or the journal holds. */
  sequence: number;
}

/**
 * The one read of a file checkpoint, shared by `FileStore.open` and the CLI: the sealed journals
 * and the journal, then the snapshot or, when it is damaged, its newest good backup, and the
 * records the snapshot does not hold yet. Journals are read before the snapshot: a compaction
 * running meanwhile only makes the snapshot newer, and records it already holds are skipped by
 * their sequence number.
 * @param path the snapshot's path; errors, `from` and the backups are named after it as given
 * @param emptyJournalCounts whether an existing journal file without records proves a snapshot
 *   was written (one is created only after its checkpoint's first snapshot). True for the lock
 *   holder; a reader beside a running checkpoint may see an empty journal just before it is deleted.
 * @throws CheckpointCorruptError when the snapshot is damaged (or missing while journal records or
 *   backups are left) and no backup is good, or a journal is damaged in place
 */
export async function readCheckpointFiles(path: string, format: SnapshotFormat, emptyJournalCounts: boolean): Promise<CheckpointFiles> {
  const journalPath = `${path}.journal`;
  const journalFiles = [...sealedJournals(journalPath), journalPath];
  const journals = await Promise.all(journalFiles.map((file) => readJournal(file)));
  // A crash between rewriting the journal at open and deleting the sealed journals leaves the
  // same records in both: keep each sequence number once, so they are not applied (or rewritten) twice.
  const records = JournalRecords.inSequence(journals.map((journal) => journal.records));
  const tornLines = journals.reduce((sum, journal) => sum + journal.tornLines, 0);
  const tornTails = journals.flatMap(({ tornTail }, i) => (tornTail ? [{ file: journalFiles[i]!, bytes: tornTail }] : []));
  const journalFilesInUse = journalFiles.filter((_, i) => journals[i]!.records.length > 0 || journals[i]!.tornLines > 0);
  const journalLeft = records.length > 0 || (emptyJournalCounts && (tornLines > 0 || journalFiles.some((file) => existsSync(file))));
  const found = await readSnapshotOrBackup(path, format, findBackups(path).map((backup) => backup.path), journalLeft);
  const since = found.snapshot?.content.sequence ?? 0;
  return {
    ...found,
    journalFiles,
    journalFilesInUse,
    records,
    changes: records.after(since),
    tornLines,
    tornTails,
    journalsTidy: journals.every((journal) => journal.tidy),
    journalAppendable: journals.at(-1)!.appendable,
    since,
    sequence: Math.max(since, records.lastSequence ?? 0),
  };
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
 * Reads a file checkpoint the way FileStore.open does ({@link readCheckpointFiles}) but never
 * writes, renames or locks anything, so that tools can look at a checkpoint while its pipeline
 * is running.
 *
 * @returns `undefined` when there is no checkpoint at `path`
 * @throws CheckpointCorruptError when the checkpoint and all its backups are damaged
 */
export async function readCheckpoint(path: string): Promise<CheckpointOnDisk | undefined> {
  const files = await readCheckpointFiles(path, snapshotFormatFor(path), false);
  const { snapshot, damage, changes } = files;
  if (!snapshot) return undefined;
  const { sequence, ...document } = snapshot.content;
  return {
    document,
    changes: [...changes.changes()],
    snapshotFile: files.from,
    snapshotSequence: sequence,
    snapshotBytes: snapshot.bytes,
    ...(damage ? { damage } : {}),
    journal: {
      files: files.journalFilesInUse,
      records: files.records.length,
      tornLines: files.tornLines,
      ...(changes.firstSequence === undefined ? {} : { firstNewSequence: changes.firstSequence }),
    },
  };
}
