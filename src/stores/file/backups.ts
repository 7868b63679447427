import { readdirSync } from 'node:fs';
import { copyFile, link, lstat, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { removeIfExists, renameIfExists } from './fs-durable.js';

/** `file.bak`, `file.bak.1`, `file.bak.2`, … newest first. */
export function backupPaths(file: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => (i === 0 ? `${file}.bak` : `${file}.bak.${i}`));
}

/**
 * The backups of `file` that exist on disk, newest first: `file.bak`, `file.bak.1`, … Found by
 * listing the directory rather than by a configured count, so that backups kept with a larger
 * `backups` option are seen too.
 */
export function findBackups(file: string): { path: string; index: number }[] {
  const name = basename(file);
  let names: string[];
  try {
    names = readdirSync(dirname(resolve(file)));
  } catch {
    return [];
  }
  const found: { path: string; index: number }[] = [];
  for (const entry of names) {
    if (entry === `${name}.bak`) found.push({ path: join(dirname(file), entry), index: 0 });
    else if (entry.startsWith(`${name}.bak.`) && /^\d+$/.test(entry.slice(name.length + 5))) {
      found.push({ path: join(dirname(file), entry), index: Number(entry.slice(name.length + 5)) });
    }
  }
  return found.sort((a, b) => a.index - b.index);
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
