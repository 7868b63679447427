import { closeSync, fsyncSync, openSync, readdirSync, rmSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/**
 * fsync of a directory makes a rename or a new file in it durable; without it a power cut can
 * undo the rename even though the file's own data was synced. Some platforms cannot open a
 * directory for syncing: there this is best effort.
 */
export async function fsyncDirectory(file: string): Promise<void> {
  let handle;
  try {
    handle = await open(dirname(file), 'r');
    await handle.sync();
  } catch {
    // Not supported here (e.g. Windows); the rename itself has still happened.
  } finally {
    await handle?.close();
  }
}

export function fsyncDirectorySync(file: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dirname(file), 'r');
    fsyncSync(fd);
  } catch {
    // See fsyncDirectory.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export async function removeIfExists(file: string): Promise<void> {
  await unlink(file).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });
}

export async function renameIfExists(from: string, to: string): Promise<boolean> {
  try {
    await rename(from, to);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** `file.corrupt-2026-11-25T14-38-48-000Z`: where a damaged file is moved for a person to look at. */
export function corruptName(file: string): string {
  return `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
}

/**
 * Removes the temp files (`<file>.<digits>`) that write-file-atomic leaves behind when the process
 * is killed mid-write; nothing else cleans them up, and each is a whole snapshot. Only call this
 * while holding the lock, so that no other process is writing one.
 */
export function removeStaleTemporaryFiles(file: string): void {
  const prefix = `${basename(file)}.`;
  let names: string[];
  try {
    names = readdirSync(dirname(file));
  } catch {
    return;
  }
  for (const name of names) {
    if (name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length))) rmSync(join(dirname(file), name), { force: true });
  }
}
