import { existsSync } from 'node:fs';
import { CheckpointCorruptError } from '../../core/errors.js';
import type { CheckpointDocument } from '../../core/model.js';
import type { StoreSession } from '../store.js';
import { findBackups } from './backups.js';
import type { CorruptPolicy } from './file-store-options.js';
import { corruptName, renameIfExists } from './fs-durable.js';
import { readJournal, sealedJournals, type JournalRecord } from './journal.js';
import { countLostItems, describeLostItems } from './lost-items.js';
import { readSnapshotOrBackup } from './read-snapshot.js';
import type { SnapshotFormat } from './snapshot-format.js';

export interface CheckpointFiles {
  /** The snapshot's path, resolved. */
  path: string;
  /** What errors and warnings call it: the path as the user gave it. */
  location: string;
  journalPath: string;
  format: SnapshotFormat;
  /** How many backups are kept; reading looks at every backup on disk, newest first. */
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
 * told to `session`. With `onCorrupt: 'restart'`, damage of any kind that no backup can repair
 * — the snapshot, the journal, a sealed journal — moves every file of the checkpoint aside and
 * starts it over.
 */
export async function loadFiles(files: CheckpointFiles, session: StoreSession): Promise<LoadedFiles> {
  const journalFiles = [...sealedJournals(files.journalPath), files.journalPath];
  try {
    return await readFiles(files, journalFiles, session);
  } catch (error) {
    if (!(error instanceof CheckpointCorruptError) || files.onCorrupt !== 'restart') throw error;
    // The backups too: a good backup of the abandoned run must not stand in for the new one later.
    const moved: string[] = [];
    for (const file of [files.path, ...journalFiles, ...findBackups(files.path).map((backup) => backup.path)]) {
      const to = corruptName(file);
      if (await renameIfExists(file, to)) moved.push(to);
    }
    const where = moved.length > 0 ? `moved ${moved.join(', ')} aside` : 'nothing to move aside';
    const problem = error.problems[0];
    const what = problem ? `${problem.path ? `${problem.path}: ` : ''}${problem.message}` : 'unreadable';
    session.emit('warning', { message: `${error.location} is damaged (${what}) and no backup can stand in for it; ${where} and started over (onCorrupt: 'restart')`, cause: error });
    return { document: undefined, records: [], sequence: 0, snapshotBytes: 0, tidy: true };
  }
}

async function readFiles(files: CheckpointFiles, journalFiles: string[], session: StoreSession): Promise<LoadedFiles> {
  const journals = await Promise.all(journalFiles.map((file) => readJournal(file)));
  // A crash between rewriting the journal at open and deleting the sealed journals leaves the
  // same records in both: keep each sequence number once, so they are not applied (or rewritten) twice.
  const records: JournalRecord[] = [];
  for (const record of journals.flatMap((journal) => journal.records)) {
    if (record.sequence > (records.at(-1)?.sequence ?? 0)) records.push(record);
  }
  const torn = journals.reduce((sum, journal) => sum + journal.tornLines, 0);
  // A journal file (even an empty one) is written only after its checkpoint's first snapshot: a
  // snapshot missing beside one was lost, not never written.
  const journalLeft = records.length > 0 || torn > 0 || journalFiles.some((file) => existsSync(file));
  const found = await readSnapshotOrBackup(files.path, files.format, findBackups(files.path).map((backup) => backup.path), journalLeft);
  if (torn > 0) session.emit('warning', { message: `${files.location}: dropped ${torn} torn record(s) at the end of the journal (a write cut short by a crash)` });
  const snapshot = found.snapshot;
  const since = snapshot?.content.sequence ?? 0;
  const changes = records.filter((record) => record.sequence > since);
  // Every change has the next sequence number: a hole means records were lost (a line deleted,
  // an older snapshot put in place). After a recovery from a backup, a hole before the first
  // record is expected and reported as lost below.
  assertNoMissingRecords(files.journalPath, found.damage ? changes : [{ sequence: since }, ...changes]);
  let document: CheckpointDocument | undefined;
  if (snapshot) {
    const { sequence: _sequence, ...content } = snapshot.content;
    document = content;
  }
  if (found.damage) {
    // Counted before the damaged file is moved aside: what it held that the backup and the
    // journal do not is what this recovery cannot bring back.
    const lostItems = await countLostItems(files.path, files.format, document, changes.map((record) => record.change));
    const movedTo = corruptName(files.path);
    const moved = await renameIfExists(files.path, movedTo);
    const lost = lostChanges(since, changes[0]?.sequence, found.from);
    const problems = lost ? [...found.damage.problems, { path: '', message: lost }] : found.damage.problems;
    session.emit('recovered', {
      location: files.location,
      from: found.from,
      problems,
      ...(moved ? { movedTo } : {}),
      ...(lostItems ? { lostItems: lostItems.total, lostItemsByStep: lostItems.steps } : {}),
    });
    if (lost) session.emit('warning', { message: `${files.location}: ${lost}` });
    if (lostItems && lostItems.total > 0) {
      session.emit('warning', { message: `${files.location}: ${describeLostItems(lostItems)} that the damaged snapshot held are not in ${found.from} or the journal: they will be done again` });
    }
  }
  return {
    document,
    records: changes,
    sequence: Math.max(since, records.at(-1)?.sequence ?? 0),
    snapshotBytes: snapshot?.bytes ?? 0,
    tidy: journalFiles.length === 1 && torn === 0 && changes.length === records.length,
  };
}

/**
 * What a recovery from a backup loses: the changes after the backup that only the damaged
 * snapshot held. They are the ones between the backup's sequence and the journal's first newer
 * record; with no newer record, how many there were is not known. `undefined` when none is lost.
 */
function lostChanges(backupSequence: number, firstRecord: number | undefined, backup: string): string | undefined {
  if (firstRecord === undefined) {
    return `loaded ${backup} (up to change ${backupSequence}) and no newer journal record: any change made after it that only the damaged snapshot held is lost (how many is not known)`;
  }
  const lost = firstRecord - backupSequence - 1;
  if (lost <= 0) return undefined;
  return `loaded ${backup} (up to change ${backupSequence}) and the journal from change ${firstRecord}: ${lost} change(s) in between (${backupSequence + 1}…${firstRecord - 1}) were only in the damaged snapshot and are lost`;
}

function assertNoMissingRecords(journal: string, records: readonly { sequence: number }[]): void {
  for (let i = 1; i < records.length; i++) {
    const after = records[i - 1]!.sequence;
    const next = records[i]!.sequence;
    if (next === after + 1) continue;
    const missing = next - after - 1 === 1 ? `record ${after + 1} is` : `records ${after + 1}…${next - 1} are`;
    throw new CheckpointCorruptError(journal, [{ path: 'records', message: `${missing} missing: the journal goes from ${i === 1 ? `the snapshot's ${after}` : after} to ${next} (a line deleted, or an older snapshot put in place)` }], {
      hint: 'what was lost cannot be read back: move the journal aside to resume from the snapshot alone (the lost items are done again), or start over with { onCorrupt: \'restart\' }',
    });
  }
}
