import type { Dirent } from 'node:fs';
import { open, readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { isJsonObject } from '../core/json.js';
import { snapshotFormatFor } from '../stores/file/read-checkpoint.js';
import type { SnapshotFormat } from '../stores/file/snapshot-formats.js';

/** Directories that hold other people's files, never a job's checkpoints. */
const SKIPPED_DIRECTORIES = new Set(['node_modules', '.git']);
const SNAPSHOT_NAME = /\.(json|ya?ml)$/i;
/** A checkpoint's lock directory (and a takeover's leftover of one): only `owner.json` inside. */
const LOCK_DIRECTORY = /\.(json|ya?ml)\.lock(\.stale-\d+-\d+)?$/i;
/**
 * How much of a file is read to tell a checkpoint by its first lines. The library writes the
 * checksum line first; a hand-written checkpoint starts with `version` and `metadata`.
 */
export const HEAD_BYTES = 64 * 1024;
/** A file up to this size without a checksum line is parsed whole to be sure. */
export const PARSE_WHOLE_BYTES = 1024 * 1024;

/**
 * Whether the files beside snapshot `name` say it is a checkpoint, even a damaged one: a journal or
 * a lock (names only the library makes), or a backup that holds a checkpoint (a person's
 * `package.json.bak` does not).
 */
async function hasCompanions(place: string, name: string, names: ReadonlySet<string>): Promise<boolean> {
  if (names.has(`${name}.journal`) || names.has(`${name}.lock`)) return true;
  return names.has(`${name}.bak`) && (await holdsCheckpoint(join(place, `${name}.bak`), name));
}
/** `X.journal`, `X.bak` or `X.journal.sealed-N`: what is left of checkpoint X when its snapshot is gone. */
const LEFTOVER = /^(.+\.(?:json|ya?ml))(?:\.journal|\.bak|\.journal\.sealed-\d+)$/i;

/**
 * The checkpoints under `directory`, found by what their files hold rather than by their names:
 * a `.json`, `.yaml` or `.yml` file that is a checkpoint (the library's checksum line, or a
 * format `version` with `metadata.runId`), or that has a journal, backup or lock beside it (so
 * that a damaged one is found too), and a checkpoint whose snapshot is gone but whose journal or
 * backups are left. Other JSON and YAML files (package.json, a job's data) are not. Searches
 * subdirectories except node_modules and .git, and follows symbolic links to directories after
 * the rest; a directory reached twice (a link loop) is searched once. Unreadable directories are passed over.
 * @returns paths as `directory` joined with the names on the way, sorted
 */
export async function findCheckpoints(directory: string): Promise<string[]> {
  const found = new Set<string>();
  const visited = new Set<string>();
  const walk = async (place: string): Promise<void> => {
    const real = await realpath(place).catch(() => undefined);
    if (real === undefined || visited.has(real)) return;
    visited.add(real);
    let entries: Dirent[];
    try {
      entries = await readdir(place, { withFileTypes: true });
    } catch {
      return;
    }
    const names = new Set(entries.map((entry) => entry.name));
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const path = join(place, entry.name);
      const kind = entry.isSymbolicLink() ? await kindOf(path) : entry.isDirectory() ? 'directory' : entry.isFile() ? 'file' : 'other';
      if (kind === 'directory') {
        if (SKIPPED_DIRECTORIES.has(entry.name) || LOCK_DIRECTORY.test(entry.name)) continue;
        if (entry.isSymbolicLink()) linked.push(path);
        else await walk(path);
      } else if (kind === 'file') {
        const leftover = LEFTOVER.exec(entry.name)?.[1];
        if (leftover !== undefined && !names.has(leftover)) {
          // A backup left alone counts only when it holds a checkpoint.
          if (!entry.name.endsWith('.bak') || (await holdsCheckpoint(path, leftover))) found.add(join(place, leftover));
        } else if (SNAPSHOT_NAME.test(entry.name) && ((await hasCompanions(place, entry.name, names)) || (await holdsCheckpoint(path)))) found.add(path);
      }
    }
  };
  // Linked directories last, so that a checkpoint is named by its path without links where it has one.
  const linked: string[] = [];
  await walk(directory);
  for (let next = linked.shift(); next !== undefined; next = linked.shift()) await walk(next);
  return [...found].sort();
}

async function kindOf(path: string): Promise<'directory' | 'file' | 'other'> {
  try {
    const info = await stat(path);
    return info.isDirectory() ? 'directory' : info.isFile() ? 'file' : 'other';
  } catch {
    return 'other'; // A dangling link.
  }
}

/** Whether a file's content is a checkpoint of the format the extension of `named` (default: its own) names. */
async function holdsCheckpoint(path: string, named = path): Promise<boolean> {
  const format = snapshotFormatFor(named);
  let head: string;
  let size: number;
  try {
    const handle = await open(path, 'r');
    try {
      size = (await handle.stat()).size;
      const bytes = Buffer.alloc(Math.min(size, size <= PARSE_WHOLE_BYTES ? PARSE_WHOLE_BYTES : HEAD_BYTES));
      const { bytesRead } = await handle.read(bytes, 0, bytes.length, 0);
      head = bytes.subarray(0, bytesRead).toString('utf8');
    } finally {
      await handle.close();
    }
  } catch {
    return false;
  }
  return textHoldsCheckpoint(head, size <= PARSE_WHOLE_BYTES, format);
}

/**
 * Whether `text` (a file's or object's content, or its first bytes when `whole` is false) is a
 * checkpoint of `format`: the library's checksum line, or the fields every checkpoint has.
 */
export function textHoldsCheckpoint(text: string, whole: boolean, format: SnapshotFormat): boolean {
  if (format.findChecksum(text)) return true;
  if (whole) {
    try {
      return looksLikeCheckpoint(format.parse(text));
    } catch {
      return false;
    }
  }
  // A big file without the library's checksum line: a hand-written checkpoint names its version
  // and run id in its first lines.
  return headNamesCheckpointFields(text, format);
}

/** Whether the first lines of `text` name a checkpoint's `version`, `metadata` and `runId`, as every checkpoint's do. */
export function headNamesCheckpointFields(text: string, format: SnapshotFormat): boolean {
  return format.name === 'JSON'
    ? /"version"\s*:\s*\d/.test(text) && /"metadata"\s*:\s*\{/.test(text) && /"runId"\s*:/.test(text)
    : /^version:\s*\d/m.test(text) && /^metadata:/m.test(text) && /^\s+runId:/m.test(text);
}

/** The fields every checkpoint format version has: a numeric `version` and `metadata.runId`. */
function looksLikeCheckpoint(value: unknown): boolean {
  return isJsonObject(value) && typeof value.version === 'number' && isJsonObject(value.metadata) && typeof value.metadata.runId === 'string';
}
