import { closeSync, openSync, readSync } from 'node:fs';
import { findBackups } from '../stores/file/snapshot-file.js';
import { DEFAULT_BACKUPS } from '../stores/file/file-store-options.js';
import { staleTemporaryFiles } from '../stores/file/fs-durable.js';
import { sealedJournals } from '../stores/file/journal.js';

/** The first line of every snapshot the library writes, JSON or YAML: its checksum. */
const SNAPSHOT_HEADER = /^(\{\s*"checksum": "crc32:[0-9a-f]{8}"|checksum: crc32:[0-9a-f]{8}\s)/;
/** A journal line: a CRC-32, a space and a record with its sequence number. */
const JOURNAL_LINE = /^[0-9a-f]{8} \{"n":\d+,/;

/** The first bytes of `file` as text, or undefined when it cannot be read (a directory, gone). */
function head(file: string): string | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(file, 'r');
    const buffer = Buffer.alloc(64);
    return buffer.toString('utf8', 0, readSync(fd, buffer, 0, buffer.length, 0));
  } catch {
    return undefined;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/*
 * A name alone does not make a file ours: a person's `X.bak` beside a hand-written checkpoint has
 * the same name as a backup. A backup is removed only when it starts with the checksum line every
 * snapshot the library writes starts with, a sealed journal only when it is empty or starts with
 * a journal record.
 */
const isOurSnapshot = (file: string): boolean => SNAPSHOT_HEADER.test(head(file) ?? '');
const isOurJournal = (file: string): boolean => {
  const text = head(file);
  return text === '' || (text !== undefined && JOURNAL_LINE.test(text));
};

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
 * locked nor damaged. Only names the library itself makes, found the way the library finds them,
 * and for backups and sealed journals only content the library writes:
 *
 * - always: staging files of an interrupted write (`X.checkpointer-next`, its numbered temporary
 *   files, and the journal's), which no reader ever uses;
 * - always: surplus backups, those past the newest {@link DEFAULT_BACKUPS} (`X.bak.3`, … as far as
 *   the run of backups goes without a gap; a stray `X.bak.9` after a gap is not ours);
 * - finished only: every other backup, and sealed journals whose records the snapshot already holds.
 *
 * Never: the snapshot `X` and its journal `X.journal` (the record that the run is done: without it
 * a rerun would do all the work again), and files moved aside as `.corrupt-<time>` or
 * `.replaced-<time>` (damaged or replaced content is for a person to look at, and nothing in it
 * tells it from a person's own file of that name).
 */
export function leftoversOf({ path, finished, journalCompacted }: LeftoverQuestion): string[] {
  const backups = findBackups(path).filter((backup) => finished || backup.index >= DEFAULT_BACKUPS).map((backup) => backup.path);
  const files = [...staleTemporaryFiles(path), ...backups.filter(isOurSnapshot)];
  if (finished && journalCompacted) files.push(...sealedJournals(`${path}.journal`).filter(isOurJournal));
  return [...new Set(files)];
}
