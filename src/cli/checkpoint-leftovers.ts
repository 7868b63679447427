import { basename, dirname, join } from 'node:path';
import { findBackups } from '../stores/file/snapshot-file.js';
import { DEFAULT_BACKUPS } from '../stores/file/file-store-options.js';
import { namesBeside, staleTemporaryFiles } from '../stores/file/fs-durable.js';
import { sealedJournals } from '../stores/file/journal.js';

/** The time stamp of `.corrupt-<time>` and `.replaced-<time>`: an ISO time with `:` and `.` as `-`. */
const STAMP = String.raw`\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}-\d{3}Z`;

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * `X.corrupt-<time>` and `X.replaced-<time>`, where X is the checkpoint, its journal, a sealed
 * journal or a backup: the files the library moves aside (a damaged file on open, the file a
 * `restore` replaced) for a person to look at.
 */
function movedAside(file: string): string[] {
  const own = new RegExp(`^${escape(basename(file))}(\\.journal(\\.sealed-\\d+)?|\\.bak(\\.\\d+)?)?\\.(corrupt|replaced)-${STAMP}$`);
  return namesBeside(file).filter((name) => own.test(name)).map((name) => join(dirname(file), name));
}

/** What `cleanup` knows of a checkpoint when it decides what to remove. */
export interface LeftoverQuestion {
  /** The snapshot's path. */
  path: string;
  /** Nothing is left to do: see `isFinished`. */
  finished: boolean;
  /** The snapshot already holds every journal record, so a sealed journal holds nothing else. */
  journalCompacted: boolean;
}

/**
 * The files `cleanup` may remove for one checkpoint that is neither among the newest kept nor
 * locked nor damaged. Only names the library itself makes, found the way the library finds them:
 *
 * - always: staging files of an interrupted write (`X.checkpointer-next`, its numbered temporary
 *   files, and the journal's), which no reader ever uses;
 * - always: surplus backups, those past the newest {@link DEFAULT_BACKUPS} (`X.bak.3`, … as far as
 *   the run of backups goes without a gap; a stray `X.bak.9` after a gap is not ours);
 * - finished only: every other backup, the `.corrupt-<time>` and `.replaced-<time>` files moved
 *   aside, and sealed journals whose records the snapshot already holds.
 *
 * The snapshot `X` and its journal `X.journal` are never removed: they are the record that the
 * run is done (without it a rerun would do all the work again).
 */
export function leftoversOf({ path, finished, journalCompacted }: LeftoverQuestion): string[] {
  const backups = findBackups(path).filter((backup) => finished || backup.index >= DEFAULT_BACKUPS).map((backup) => backup.path);
  const files = [...staleTemporaryFiles(path), ...backups];
  if (finished) {
    if (journalCompacted) files.push(...sealedJournals(`${path}.journal`));
    files.push(...movedAside(path));
  }
  return [...new Set(files)];
}
