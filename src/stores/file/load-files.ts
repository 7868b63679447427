import { CheckpointCorruptError } from '../../core/errors.js';
import type { CheckpointDocument } from '../../core/model.js';
import type { StoreSession } from '../store.js';
import { backupPaths } from './backups.js';
import type { CorruptPolicy } from './file-store-options.js';
import { corruptName, renameIfExists } from './fs-durable.js';
import { readJournal, sealedJournals, type JournalRecord } from './journal.js';
import { readSnapshotOrBackup, type ReadSnapshot } from './read-snapshot.js';
import type { SnapshotFormat } from './snapshot-format.js';

export interface CheckpointFiles {
  /** The snapshot's path, resolved. */
  path: string;
  /** What errors and warnings call it: the path as the user gave it. */
  location: string;
  journalPath: string;
  format: SnapshotFormat;
  backups: number;
  onCorrupt: CorruptPolicy;
}

export interface LoadedFiles {
  /** The snapshot's document, if there is one. */
  document: CheckpointDocument | undefined;
  /** The journal's records after the snapshot, in order, each sequence number once. */
  records: JournalRecord[];
  /** The last sequence number the snapshot or the journal holds. */
  sequence: number;
  /** The size of the snapshot read. */
  snapshotBytes: number;
  /** Whether the journal files hold exactly `records`; if not, the journal should be rewritten to hold just those. */
  tidy: boolean;
}

/**
 * Reads a file checkpoint as it is on disk: the snapshot (or its newest good backup, moving a
 * damaged snapshot aside), the sealed journals and the journal. Warnings and recoveries are
 * told to `session`.
 */
export async function loadFiles(files: CheckpointFiles, session: StoreSession): Promise<LoadedFiles> {
  const journalFiles = [...sealedJournals(files.journalPath), files.journalPath];
  const journals = await Promise.all(journalFiles.map((file) => readJournal(file)));
  // A crash between rewriting the journal at open and deleting the sealed journals leaves the
  // same records in both: keep each sequence number once, so they are not applied (or rewritten) twice.
  let records: JournalRecord[] = [];
  for (const record of journals.flatMap((journal) => journal.records)) {
    if (record.sequence > (records.at(-1)?.sequence ?? 0)) records.push(record);
  }
  const torn = journals.reduce((sum, journal) => sum + journal.tornLines, 0);
  if (torn > 0) session.emit('warning', { message: `${files.location}: dropped ${torn} torn record(s) at the end of the journal (a write cut short by a crash)` });
  let snapshot: ReadSnapshot | undefined;
  try {
    const found = await readSnapshotOrBackup(files.path, files.format, backupPaths(files.path, files.backups), records.length > 0);
    if (found.damage) {
      const movedTo = corruptName(files.path);
      const moved = await renameIfExists(files.path, movedTo);
      session.emit('recovered', { location: files.location, from: found.from, problems: found.damage.problems, ...(moved ? { movedTo } : {}) });
    }
    snapshot = found.snapshot;
  } catch (error) {
    if (!(error instanceof CheckpointCorruptError) || files.onCorrupt !== 'restart') throw error;
    for (const file of [files.path, ...journalFiles]) await renameIfExists(file, corruptName(file));
    session.emit('warning', { message: `${files.location} is damaged and no backup is good; moved it aside and started over (onCorrupt: 'restart')`, cause: error });
    snapshot = undefined;
    records = [];
  }
  const since = snapshot?.content.sequence ?? 0;
  const changes = records.filter((record) => record.sequence > since);
  let document: CheckpointDocument | undefined;
  if (snapshot) {
    const { sequence: _sequence, ...content } = snapshot.content;
    document = content;
  }
  return {
    document,
    records: changes,
    sequence: Math.max(since, records.at(-1)?.sequence ?? 0),
    snapshotBytes: snapshot?.bytes ?? 0,
    tidy: journalFiles.length === 1 && torn === 0 && changes.length === records.length,
  };
}
