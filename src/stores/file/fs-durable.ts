import { lstatSync, readdirSync, realpathSync, renameSync, rmSync, unlinkSync } from 'node:fs';
import { lstat, open, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import writeFileAtomic from 'write-file-atomic';

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

/** The names in the directory of `file`; none if it cannot be listed (missing, not a directory). */
export function namesBeside(file: string): string[] {
  try {
    return readdirSync(dirname(file));
  } catch {
    return [];
  }
}

/**
 * The names of the regular files in the directory of `file`: what the library may have written
 * there. A directory or link a person named like one of them is not read, moved or deleted.
 */
export function filesBeside(file: string): string[] {
  try {
    return readdirSync(dirname(file), { withFileTypes: true }).flatMap((entry) => (entry.isFile() ? [entry.name] : []));
  } catch {
    return [];
  }
}

/**
 * Deletes `files` that exist, each right after `beforeEach` (a holder's check that its lock is
 * still ours, so that a holder taken over never deletes its successor's files).
 */
export function removeFiles(files: readonly string[], beforeEach: () => void): void {
  for (const file of files) {
    beforeEach();
    try {
      if (!lstatSync(file).isDirectory()) unlinkSync(file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

/** Deletes `file` if it exists; a directory of that name (a person's, never the library's) is left alone. */
export async function removeIfExists(file: string): Promise<void> {
  try {
    if (!(await lstat(file)).isDirectory()) await unlink(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
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

const asideStamp = (): string => new Date().toISOString().replace(/[:.]/g, '-');

/** `key.corrupt-2026-11-25T14-38-48-000Z`: where a damaged object is kept for a person to look at (created only if no object has that key). */
export function corruptName(key: string): string {
  return `${key}.corrupt-${asideStamp()}`;
}

/**
 * `file.corrupt-2026-11-25T14-38-48-000Z` (or `.replaced-…`): where a file is moved or copied for
 * a person to look at — with `-2`, `-3`… after it when a file of that name exists already (a
 * person's, or one kept earlier in the same millisecond): what is there is never replaced.
 */
export function unusedAsideName(file: string, kind: 'corrupt' | 'replaced' = 'corrupt'): string {
  const base = `${file}.${kind}-${asideStamp()}`;
  for (let n = 1; ; n++) {
    const name = n === 1 ? base : `${base}-${n}`;
    if (!pathExists(name)) return name;
  }
}

function pathExists(file: string): boolean {
  try {
    lstatSync(file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/** Writes `data` to a new file, durably; fails with EEXIST rather than replace one. The caller fsyncs the directory. */
export async function createFileDurably(file: string, data: Uint8Array): Promise<void> {
  const handle = await open(file, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

const STAGING = '.checkpointer-next';

/**
 * `<file>.checkpointer-next`: where a new version of `file` is written before it replaces `file`.
 * write-file-atomic's own temporary files are then `<file>.checkpointer-next.<digits>`. Both are
 * names only this library makes, so a leftover can be removed without touching a person's
 * `<file>.1` or `<file>.20240101`, which look exactly like a temporary file of `<file>` itself.
 */
const stagingName = (file: string): string => `${file}${STAGING}`;

/**
 * Replaces `file` (the file a symlink points to, if it is one) with `data`: write-file-atomic
 * writes it to {@link stagingName} (temporary file, fsync, rename), then `beforeReplace` runs —
 * synchronously, so nothing happens between it and the rename — and the staging file is renamed
 * over `file`. The file keeps its mode and owner. The caller fsyncs the directory afterwards.
 * If `beforeReplace` throws, `file` is left as it was and the staging file is removed.
 */
export async function replaceFile(file: string, data: string | Buffer, beforeReplace: () => void = () => {}): Promise<void> {
  const target = await realpath(file).catch(() => file);
  const staging = stagingName(target);
  const existing = await stat(target).catch(() => undefined);
  const keep = existing ? { mode: existing.mode, chown: { uid: existing.uid, gid: existing.gid } } : {};
  await writeFileAtomic(staging, data, { fsync: true, ...keep });
  try {
    // write-file-atomic makes one write call and does not check its count: on a nearly full disk
    // the write can be short without an error, and a cut-off snapshot would replace a good one.
    const expected = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    const written = (await stat(staging)).size;
    if (written !== expected) {
      throw Object.assign(new Error(`ENOSPC: the disk took only ${written} of ${expected} bytes of ${staging}; the previous file is kept`), { code: 'ENOSPC' });
    }
    beforeReplace();
    renameSync(staging, target);
  } catch (error) {
    await removeIfExists(staging).catch(() => {});
    throw error;
  }
}

/**
 * What an interrupted {@link replaceFile} of `file` or of its journal leaves behind: the staging
 * file and write-file-atomic's temporary files of it, beside `file` and beside the file it links
 * to. Only names of the library's own — never a sealed journal, which still holds records.
 */
export function staleTemporaryFiles(file: string): string[] {
  const places = new Set([file]);
  try {
    places.add(realpathSync(file));
  } catch {
    // No file yet, or a dangling link: only its own directory.
  }
  // By resolved path: a relative `file` and its real path name the same files twice.
  const found = new Map<string, string>();
  for (const place of places) {
    const own = [stagingName(basename(place)), stagingName(`${basename(place)}.journal`)];
    for (const name of filesBeside(place)) {
      if (own.some((staging) => name === staging || (name.startsWith(`${staging}.`) && /^\d+$/.test(name.slice(staging.length + 1))))) {
        const path = join(dirname(place), name);
        if (!found.has(resolve(path))) found.set(resolve(path), path);
      }
    }
  }
  return [...found.values()];
}

/**
 * Removes the {@link staleTemporaryFiles} of `file`; nothing else cleans them up, and each is a
 * whole snapshot. Only call this while holding the lock, so that no other process is writing one.
 */
export function removeStaleTemporaryFiles(file: string): void {
  for (const path of staleTemporaryFiles(file)) rmSync(path, { force: true });
}
