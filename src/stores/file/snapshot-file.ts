import { copyFile, link, lstat, open, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { CheckpointCorruptError, CheckpointStoreError } from '../../core/errors.js';
import type { CheckpointDocument } from '../../core/model.js';
import { crashPoint } from './crash-point.js';
import { fsyncDirectory, filesBeside, removeIfExists, renameIfExists, replaceFile } from './fs-durable.js';
import { parseSnapshot, renderSnapshot, type SnapshotContent, type SnapshotFormat } from './snapshot-formats.js';

/** The snapshot file on disk and its backups (`file.bak`, `file.bak.1`, …): read, written, rotated. */

export interface ReadSnapshot {
  content: SnapshotContent;
  bytes: number;
}

/**
 * Reads and validates one snapshot file; `undefined` if it does not exist.
 * @throws CheckpointCorruptError if it is not a valid checkpoint
 * @throws CheckpointStoreError if it cannot be read at all (a directory, no permission…)
 */
export async function readSnapshot(file: string, format: SnapshotFormat): Promise<ReadSnapshot | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readWholeFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    const why = code === 'EISDIR' ? 'is a directory, not a checkpoint file' : code === 'EACCES' ? 'cannot be read (permission denied)' : `cannot be read: ${(error as Error).message}`;
    throw new CheckpointStoreError(file, `${why} — point \`path\` at a checkpoint file`, { cause: error });
  }
  return { content: parseSnapshot(bytes, format, file), bytes: bytes.length };
}

/**
 * Reads a whole file in one `read` where it can: `fs.promises.readFile` reads 512 KiB at a time,
 * one round trip to the thread pool each, which at 30 MB costs more than parsing it.
 */
async function readWholeFile(file: string): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    const bytes = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await handle.read(bytes, filled, size - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return bytes.subarray(0, filled);
  } finally {
    await handle.close();
  }
}

export interface SnapshotOrBackup {
  snapshot: ReadSnapshot | undefined;
  /** The file the snapshot was read from: the checkpoint itself, or a backup. */
  from: string;
  /** Why the checkpoint file itself could not be used, when a backup was read instead. */
  damage?: CheckpointCorruptError;
}

/**
 * Reads the snapshot or, when it is damaged, the first good file of `backups`. A missing snapshot is damage
 * too when anything of it is left — records in its journal, or backups (a completed run deletes
 * its backups before its snapshot): a checkpoint never silently starts from nothing. Only reads:
 * moving the damaged file aside is the caller's decision.
 * @throws CheckpointCorruptError (the snapshot's own problem) when no backup is good either
 */
export async function readSnapshotOrBackup(file: string, format: SnapshotFormat, backups: readonly string[], haveJournal: boolean): Promise<SnapshotOrBackup> {
  let damage: CheckpointCorruptError | undefined;
  try {
    const snapshot = await readSnapshot(file, format);
    if (snapshot) return { snapshot, from: file };
  } catch (error) {
    if (!(error instanceof CheckpointCorruptError)) throw error;
    damage = error;
  }
  let backupsLeft = false;
  for (const backup of backups) {
    let snapshot: ReadSnapshot | undefined;
    try {
      snapshot = await readSnapshot(backup, format);
    } catch {
      backupsLeft = true;
      continue;
    }
    if (snapshot) return { snapshot, from: backup, damage: damage ?? missing(file, haveJournal ? 'but its journal exists' : 'but its backups are still there') };
  }
  if (damage) throw damage;
  if (haveJournal) throw missing(file, 'but its journal exists');
  if (backupsLeft) throw missing(file, 'and none of its backups is good');
  return { snapshot: undefined, from: file };
}

const missing = (file: string, why: string): CheckpointCorruptError => new CheckpointCorruptError(file, [{ path: '', message: `missing, ${why}` }]);

/**
 * Replaces the snapshot at `path` with `document` (holding the journal up to `sequence`): renders
 * it in chunks, keeps the previous snapshot as the newest of `backups` backups, writes the new one
 * atomically (to a staging file of its own name with write-file-atomic — temporary file, fsync,
 * rename — then renamed over `path`) and fsyncs the directory so that its name survives a power
 * cut. A crash at any point leaves either the old snapshot or the new one.
 * @param beforeReplace called synchronously before the backups are rotated and again right before
 *   the new snapshot is renamed over the old one (the writer's check that it still holds the
 *   lock); if it throws, the old snapshot and backups stay and the error is thrown
 * @returns the new snapshot's size in bytes
 */
export async function writeSnapshot(
  path: string,
  format: SnapshotFormat,
  document: CheckpointDocument,
  sequence: number,
  backups: number,
  beforeReplace: () => void = () => {},
): Promise<number> {
  const bytes = await renderSnapshot(format, document, sequence);
  beforeReplace();
  await rotateBackups(path, backups);
  crashPoint('compaction:after-backup');
  await replaceFile(path, bytes, beforeReplace);
  await fsyncDirectory(path);
  crashPoint('compaction:after-snapshot');
  return bytes.length;
}

const backupPath = (file: string, index: number): string => (index === 0 ? `${file}.bak` : `${file}.bak.${index}`);

/**
 * The backups of `file` on disk, newest first: `file.bak`, `file.bak.1`, … as far as they run
 * without a gap, so that backups kept with a larger `backups` option are found too, while a
 * stray `file.bak.9` or `file.bak.01` of someone else's is neither read nor removed.
 */
export function findBackups(file: string): { path: string; index: number }[] {
  const names = new Set(filesBeside(resolve(file)));
  const found: { path: string; index: number }[] = [];
  for (let index = 0; ; index++) {
    const path = backupPath(file, index);
    if (!names.has(basename(path))) return found;
    found.push({ path, index });
  }
}

/**
 * Every backup of `file` that a checkpoint keeping `keep` backups may have made, whether on disk
 * or not, and those a run with a larger `backups` left: what deleting the checkpoint removes.
 */
export function ownBackups(file: string, keep: number): string[] {
  const paths = new Set(Array.from({ length: keep }, (_, index) => backupPath(file, index)));
  for (const backup of findBackups(file)) paths.add(backup.path);
  return [...paths];
}

/**
 * Shifts the backups by one and makes the current snapshot the newest of `count`. The snapshot is
 * hard-linked, not moved, so that a crash at any point still leaves a snapshot in place.
 */
async function rotateBackups(file: string, count: number): Promise<void> {
  if (count <= 0) return;
  try {
    await stat(file);
  } catch {
    return;
  }
  const symlink = (await lstat(file)).isSymbolicLink();
  // A directory in a backup's place is a person's: the rotation stops before it, never moving it.
  for (let i = 0; i < count; i++) {
    if ((await lstat(backupPath(file, i)).catch(() => undefined))?.isDirectory()) count = i;
  }
  if (count === 0) return;
  await removeIfExists(backupPath(file, count - 1));
  for (let i = count - 1; i > 0; i--) await renameIfExists(backupPath(file, i - 1), backupPath(file, i));
  // A hard link to a symlink is one more symlink to the live file, which protects nothing: copy it.
  if (symlink) {
    await copyFile(file, backupPath(file, 0));
    return;
  }
  try {
    await link(file, backupPath(file, 0));
  } catch {
    // File systems without hard links: a copy does the same job.
    await copyFile(file, backupPath(file, 0));
  }
}

/**
 * Whether a snapshot holds progress worth a backup: a step, a stage, context or a counter. The
 * first snapshot of a new checkpoint (or one just reset) holds only its run id and config; a
 * backup of it would protect nothing and push a backup that does out of the rotation.
 */
export function holdsProgress(document: CheckpointDocument): boolean {
  return (
    Object.keys(document.steps).length > 0 ||
    document.stages.length > 0 ||
    Object.keys(document.context).length > 0 ||
    Object.keys(document.counters).length > 0
  );
}
