import { copyFile, link, lstat, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { CheckpointDocument } from '../../core/model.js';
import { namesBeside, removeIfExists, renameIfExists } from './fs-durable.js';

/** `file.bak`, `file.bak.1`, `file.bak.2`, … newest first. */
export function backupPaths(file: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => (i === 0 ? `${file}.bak` : `${file}.bak.${i}`));
}

/**
 * The backups of `file` on disk, newest first: `file.bak`, `file.bak.1`, … as far as they run
 * without a gap, so that backups kept with a larger `backups` option are found too, while a
 * stray `file.bak.9` or `file.bak.01` of someone else's is neither read nor removed.
 */
export function findBackups(file: string): { path: string; index: number }[] {
  const names = new Set(namesBeside(resolve(file)));
  const found: { path: string; index: number }[] = [];
  for (let index = 0; ; index++) {
    const path = index === 0 ? `${file}.bak` : `${file}.bak.${index}`;
    if (!names.has(basename(path))) return found;
    found.push({ path, index });
  }
}

/**
 * Shifts the backups by one and makes the current snapshot the newest backup. The snapshot is
 * hard-linked, not moved, so that a crash at any point still leaves a snapshot in place.
 */
export async function rotateBackups(file: string, count: number): Promise<void> {
  if (count <= 0) return;
  try {
    await stat(file);
  } catch {
    return;
  }
  const symlink = (await lstat(file)).isSymbolicLink();
  const paths = backupPaths(file, count);
  await removeIfExists(paths[count - 1]!);
  for (let i = count - 1; i > 0; i--) await renameIfExists(paths[i - 1]!, paths[i]!);
  // A hard link to a symlink is one more symlink to the live file, which protects nothing: copy it.
  if (symlink) {
    await copyFile(file, paths[0]!);
    return;
  }
  try {
    await link(file, paths[0]!);
  } catch {
    // File systems without hard links: a copy does the same job.
    await copyFile(file, paths[0]!);
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
