import { copyFile, link, lstat, stat } from 'node:fs/promises';
import { removeIfExists, renameIfExists } from './fs-durable.js';

/** `file.bak`, `file.bak.1`, `file.bak.2`, … newest first. */
export function backupPaths(file: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => (i === 0 ? `${file}.bak` : `${file}.bak.${i}`));
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
