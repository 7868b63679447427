import { readFile } from 'node:fs/promises';
import { CheckpointCorruptError, startedOverMessage } from '../../core/errors.js';
import { isJsonObject, type JsonValue } from '../../core/json.js';
import type { CheckpointChange, CheckpointDocument } from '../../core/model.js';
import { CheckpointState } from '../../core/state.js';
import type { StoreSession } from '../store.js';
import type { CorruptPolicy } from './file-store-options.js';
import { createFileDurably, renameIfExists, unusedAsideName } from './fs-durable.js';
import { JournalRecords, sealedJournals } from './journal.js';
import { readCheckpointFiles, type TornTail } from './read-checkpoint.js';
import { findBackups } from './snapshot-file.js';
import type { SnapshotFormat } from './snapshot-formats.js';

export interface OpenedFiles {
  /** The snapshot's document, if there is one. */
  document: CheckpointDocument | undefined;
  /** The journal's records after the snapshot, in order, each sequence number once. */
  records: JournalRecords;
  /** The last sequence number the snapshot or the journal holds. */
  sequence: number;
  /** The size of the snapshot read. */
  snapshotBytes: number;
  /** Whether the journal files hold exactly `records`; if not, the journal should be rewritten to hold just those. */
  tidy: boolean;
  /** Whether a record appended to the journal as it is would be read; if not, it must be rewritten first. */
  appendable: boolean;
  /** Damaged lines at the end of the journal files (a write cut short by a crash), dropped. */
  tornLines: number;
  /** The bytes they were: kept aside ({@link keepTornTails}) before a rewrite drops them. */
  tornTails: TornTail[];
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
    return { document: undefined, records: JournalRecords.empty, sequence: 0, snapshotBytes: 0, tidy: true, appendable: true, tornLines: 0, tornTails: [] };
  }
}

/**
 * Says that the torn lines at the end of the journal are dropped; when `keep` (the journal is
 * about to be rewritten without them), first writes their bytes to `<journal>.corrupt-<time>`:
 * a torn write is what a crash leaves, but the same bytes could be damage that only looks like
 * one, and the library never throws away bytes it cannot prove are garbage.
 */
export async function keepTornTails(opened: OpenedFiles, location: string, keep: boolean, session: StoreSession): Promise<void> {
  if (opened.tornLines === 0) return;
  const kept: string[] = [];
  if (keep) {
    for (const { file, bytes } of opened.tornTails) {
      const copy = unusedAsideName(file);
      await createFileDurably(copy, bytes);
      kept.push(copy);
    }
  }
  const where = kept.length > 0 ? `; its ${opened.tornTails.reduce((sum, tail) => sum + tail.bytes.length, 0)} byte(s) are kept in ${kept.join(', ')}` : '';
  session.emit('warning', { message: `${location}: dropped ${opened.tornLines} torn record(s) at the end of the journal (a write cut short by a crash)${where}` });
}

/** Moves every file of the checkpoint aside, the backups too: a good backup of the abandoned run must not stand in for the new one later. */
async function startOver(path: string, error: CheckpointCorruptError, session: StoreSession): Promise<void> {
  const journal = `${path}.journal`;
  const moved: string[] = [];
  for (const file of [path, ...sealedJournals(journal), journal, ...findBackups(path).map((backup) => backup.path)]) {
    const to = unusedAsideName(file);
    if (await renameIfExists(file, to)) moved.push(to);
  }
  const where = moved.length > 0 ? `moved ${moved.join(', ')} aside` : 'nothing to move aside';
  session.emit('warning', { message: startedOverMessage(error, where), cause: error });
}

async function recoverFiles(path: string, location: string, format: SnapshotFormat, session: StoreSession): Promise<OpenedFiles> {
  // The lock holder reads: a journal file, even an empty one, is written only after its
  // checkpoint's first snapshot, so a snapshot missing beside one was lost, not never written.
  const read = await readCheckpointFiles(path, format, true);
  const { snapshot, since, changes } = read;
  // Every change has the next sequence number: a hole means records were lost (a line deleted,
  // an older snapshot put in place). After a recovery from a backup, a hole before the first
  // record is expected and reported as lost below.
  assertNoMissingRecords(`${path}.journal`, read.damage ? undefined : since, changes.sequences());
  let document: CheckpointDocument | undefined;
  if (snapshot) {
    const { sequence: _sequence, ...content } = snapshot.content;
    document = content;
  }
  if (read.damage) {
    // Counted before the damaged file is moved aside: what it held that the backup and the
    // journal do not is what this recovery cannot bring back.
    const lostItems = await countLostItems(path, format, document, changes.changes());
    const movedTo = unusedAsideName(path);
    const moved = await renameIfExists(path, movedTo);
    const lost = lostChanges(since, changes.firstSequence, read.from);
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
    tidy: read.journalFiles.length === 1 && read.journalsTidy && changes.length === read.records.length,
    appendable: read.journalAppendable,
    tornLines: read.tornLines,
    tornTails: read.tornTails,
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

/** Every sequence number follows the one before it, the first the snapshot's `since` (unless that is not known). */
function assertNoMissingRecords(journal: string, since: number | undefined, sequences: Iterable<number>): void {
  let after = since;
  let fromSnapshot = since !== undefined;
  for (const next of sequences) {
    if (after !== undefined && next !== after + 1) {
      const missing = next - after - 1 === 1 ? `record ${after + 1} is` : `records ${after + 1}…${next - 1} are`;
      throw new CheckpointCorruptError(journal, [{ path: '', message: `${missing} missing: the journal goes from ${fromSnapshot ? `the snapshot's ${after}` : after} to ${next} (a line deleted, or an older snapshot put in place)` }], {
        hint: 'what was lost cannot be read back: move the journal aside to resume from the snapshot alone (the lost items are done again), or start over with { onCorrupt: \'restart\' }',
      });
    }
    fromSnapshot = false;
    after = next;
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
  changes: Iterable<CheckpointChange>,
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
