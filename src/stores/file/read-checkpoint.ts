import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { CheckpointCorruptError, startedOverMessage } from '../../core/errors.js';
import { isJsonObject, type JsonValue } from '../../core/json.js';
import type { CheckpointChange, CheckpointDocument } from '../../core/model.js';
import { CheckpointState } from '../../core/state.js';
import type { StoreSession } from '../store.js';
import type { CorruptPolicy } from './file-store-options.js';
import { corruptName, renameIfExists } from './fs-durable.js';
import { readJournal, sealedJournals, type JournalRecord } from './journal.js';
import { findBackups, readSnapshotOrBackup, type SnapshotOrBackup } from './snapshot-file.js';
import { snapshotFormatFor, type SnapshotFormat } from './snapshot-formats.js';

export { findBackups } from './snapshot-file.js';
export { snapshotFormatFor } from './snapshot-formats.js';
export { readLockHolder } from './lock-owner.js';

/** What the files of a file checkpoint hold, read without writing, renaming or locking anything. */
export interface CheckpointFiles extends SnapshotOrBackup {
  /** The journal files looked at: the sealed ones (left by an unfinished compaction) first, then the journal. */
  journalFiles: string[];
  /** Those of `journalFiles` that hold records or torn lines. */
  journalFilesInUse: string[];
  /** Every valid record of the journal files, in order, each sequence number once. */
  records: JournalRecord[];
  /** The records newer than the snapshot: the changes to replay over it. */
  changes: JournalRecord[];
  /** Damaged lines at the end of a journal (a write cut short by a crash); they are dropped. */
  tornLines: number;
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
  const records = journals.length === 1 ? journals[0]!.records : inSequence(journals.map((journal) => journal.records));
  const tornLines = journals.reduce((sum, journal) => sum + journal.tornLines, 0);
  const journalFilesInUse = journalFiles.filter((_, i) => journals[i]!.records.length > 0 || journals[i]!.tornLines > 0);
  const journalLeft = records.length > 0 || (emptyJournalCounts && (tornLines > 0 || journalFiles.some((file) => existsSync(file))));
  const found = await readSnapshotOrBackup(path, format, findBackups(path).map((backup) => backup.path), journalLeft);
  const since = found.snapshot?.content.sequence ?? 0;
  return {
    ...found,
    journalFiles,
    journalFilesInUse,
    records,
    changes: (records[0]?.sequence ?? 0) > since ? records : records.filter((record) => record.sequence > since),
    tornLines,
    since,
    sequence: Math.max(since, records.at(-1)?.sequence ?? 0),
  };
}

/** The records of journals read in order, each sequence number once (each journal is in order already). */
function inSequence(journals: readonly JournalRecord[][]): JournalRecord[] {
  const records: JournalRecord[] = [];
  for (const record of journals.flat()) {
    if (record.sequence > (records.at(-1)?.sequence ?? 0)) records.push(record);
  }
  return records;
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
    changes: changes.map((record) => record.change),
    snapshotFile: files.from,
    snapshotSequence: sequence,
    snapshotBytes: snapshot.bytes,
    ...(damage ? { damage } : {}),
    journal: {
      files: files.journalFilesInUse,
      records: files.records.length,
      tornLines: files.tornLines,
      ...(changes[0] ? { firstNewSequence: changes[0].sequence } : {}),
    },
  };
}

export interface OpenedFiles {
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
 * What `FileStore.open` makes of the files on disk: {@link readCheckpointFiles}, plus the side
 * effects of opening for writing. A damaged snapshot that a backup stands in for is moved aside
 * and the recovery reported (with what it lost) to `session`; with `onCorrupt: 'restart'`, damage
 * of any kind that no backup can repair — the snapshot, the journal, a sealed journal — moves
 * every file of the checkpoint aside and starts it over.
 * @param path the snapshot's path, resolved; `location` is what messages call it
 */
export async function openFiles(path: string, location: string, format: SnapshotFormat, onCorrupt: CorruptPolicy, session: StoreSession): Promise<OpenedFiles> {
  try {
    return await recoverFiles(path, location, format, session);
  } catch (error) {
    if (!(error instanceof CheckpointCorruptError) || onCorrupt !== 'restart') throw error;
    await startOver(path, error, session);
    return { document: undefined, records: [], sequence: 0, snapshotBytes: 0, tidy: true };
  }
}

/** Moves every file of the checkpoint aside, the backups too: a good backup of the abandoned run must not stand in for the new one later. */
async function startOver(path: string, error: CheckpointCorruptError, session: StoreSession): Promise<void> {
  const journal = `${path}.journal`;
  const moved: string[] = [];
  for (const file of [path, ...sealedJournals(journal), journal, ...findBackups(path).map((backup) => backup.path)]) {
    const to = corruptName(file);
    if (await renameIfExists(file, to)) moved.push(to);
  }
  const where = moved.length > 0 ? `moved ${moved.join(', ')} aside` : 'nothing to move aside';
  session.emit('warning', { message: startedOverMessage(error, where), cause: error });
}

async function recoverFiles(path: string, location: string, format: SnapshotFormat, session: StoreSession): Promise<OpenedFiles> {
  // The lock holder reads: a journal file, even an empty one, is written only after its
  // checkpoint's first snapshot, so a snapshot missing beside one was lost, not never written.
  const read = await readCheckpointFiles(path, format, true);
  if (read.tornLines > 0) session.emit('warning', { message: `${location}: dropped ${read.tornLines} torn record(s) at the end of the journal (a write cut short by a crash)` });
  const { snapshot, since, changes } = read;
  // Every change has the next sequence number: a hole means records were lost (a line deleted,
  // an older snapshot put in place). After a recovery from a backup, a hole before the first
  // record is expected and reported as lost below.
  assertNoMissingRecords(`${path}.journal`, read.damage ? changes : [{ sequence: since }, ...changes]);
  let document: CheckpointDocument | undefined;
  if (snapshot) {
    const { sequence: _sequence, ...content } = snapshot.content;
    document = content;
  }
  if (read.damage) {
    // Counted before the damaged file is moved aside: what it held that the backup and the
    // journal do not is what this recovery cannot bring back.
    const lostItems = await countLostItems(path, format, document, changes.map((record) => record.change));
    const movedTo = corruptName(path);
    const moved = await renameIfExists(path, movedTo);
    const lost = lostChanges(since, changes[0]?.sequence, read.from);
    const problems = lost ? [...read.damage.problems, { path: '', message: lost }] : read.damage.problems;
    session.emit('recovered', {
      location,
      from: read.from,
      problems,
      ...(moved ? { movedTo } : {}),
      ...(lostItems ? { lostItems: lostItems.total, lostItemsByStep: lostItems.steps } : {}),
    });
    if (lost) session.emit('warning', { message: `${location}: ${lost}` });
    if (lostItems && lostItems.total > 0) {
      session.emit('warning', { message: `${location}: ${describeLostItems(lostItems)} that the damaged snapshot held are not in ${read.from} or the journal: they will be done again` });
    }
  }
  return {
    document,
    records: changes,
    sequence: read.sequence,
    snapshotBytes: snapshot?.bytes ?? 0,
    tidy: read.journalFiles.length === 1 && read.tornLines === 0 && changes.length === read.records.length,
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

/** Completed items a damaged snapshot held that the checkpoint recovered without it lacks. */
interface LostItems {
  total: number;
  /** By step, only the steps that lost any. */
  steps: Record<string, number>;
}

/**
 * Counts the completed items of a damaged snapshot that the recovered checkpoint — the backup
 * plus the journal replayed over it — does not have: the work a recovery could not bring back,
 * which will be done again. The damaged file is read leniently (no checksum, no schema), since
 * damage is often one flipped byte or a hand edit that leaves the item lists readable.
 * @returns `undefined` when the damaged file is missing or cannot be parsed: how many is not known
 */
async function countLostItems(
  damagedFile: string,
  format: SnapshotFormat,
  recovered: CheckpointDocument | undefined,
  changes: readonly CheckpointChange[],
): Promise<LostItems | undefined> {
  const damagedSteps = await readCompletedLeniently(damagedFile, format);
  if (!damagedSteps) return undefined;
  const state = recovered ? CheckpointState.fromDocument(recovered) : undefined;
  if (state) for (const change of changes) state.apply(change);
  const lost: LostItems = { total: 0, steps: {} };
  for (const [step, keys] of damagedSteps) {
    const completed = state?.steps.get(step)?.completed;
    let count = 0;
    for (const key of keys) if (!completed?.has(key)) count++;
    if (count === 0) continue;
    lost.steps[step] = count;
    lost.total += count;
  }
  return lost;
}

/** The completed keys of each step of a snapshot read without trusting it, or `undefined`. */
async function readCompletedLeniently(file: string, format: SnapshotFormat): Promise<Map<string, Set<string>> | undefined> {
  let raw: unknown;
  try {
    raw = format.parse(await readFile(file, 'utf8'));
  } catch {
    return undefined;
  }
  if (!isJsonObject(raw) || !isJsonObject(raw.steps)) return undefined;
  const steps = new Map<string, Set<string>>();
  for (const [name, step] of Object.entries(raw.steps)) {
    if (!isJsonObject(step)) continue;
    const keys = new Set<string>();
    for (const key of list(step.completedItems)) if (typeof key === 'string') keys.add(key);
    for (const detail of list(step.completedDetails)) if (isJsonObject(detail) && typeof detail.key === 'string') keys.add(detail.key);
    steps.set(name, keys);
  }
  return steps;
}

const list = (value: JsonValue | undefined): JsonValue[] => (Array.isArray(value) ? value : []);

/** Says what `lost` means for the user, e.g. `3 completed item(s) (enrich: 2, train: 1)`. */
function describeLostItems(lost: LostItems): string {
  const bySteps = Object.entries(lost.steps).slice(0, 5).map(([step, count]) => `${step}: ${count}`);
  const more = Object.keys(lost.steps).length > 5 ? ', …' : '';
  return `${lost.total} completed item(s) (${bySteps.join(', ')}${more})`;
}
