import { lstat, unlink } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CheckpointLockedError } from '../core/errors.js';
import { FileLock } from '../stores/file/file-lock.js';
import { fsyncDirectory } from '../stores/file/fs-durable.js';
import { leftoversOf } from './checkpoint-leftovers.js';
import { describeLock, readDirectory, readListing, type ReadListing } from './directory-list.js';
import { formatBytes, formatTime } from './human.js';
import type { Output } from './output.js';
import type { CheckpointView } from './target.js';

/** What cleanup did with one checkpoint. */
export interface CleanupEntry {
  path: string;
  updatedAt: string | null;
  /**
   * `kept`: among the newest `--keep`, untouched. `finished` / `unfinished`: older, its
   * leftovers (finished) or surplus backups (unfinished) removed. `skipped`: not touched, see
   * `reason`. `failed`: a removal failed, see `reason`.
   */
  decision: 'kept' | 'finished' | 'unfinished' | 'skipped' | 'failed';
  reason: string | null;
  /** The files removed — with `--dry-run`, that would be removed. */
  removed: string[];
  bytes: number;
}

/** What `checkpoint-resume cleanup --json` prints. */
export interface CleanupReport {
  location: string;
  keep: number;
  dryRun: boolean;
  checkpoints: CleanupEntry[];
  /** Files removed (or that would be) over all checkpoints, and their size. */
  removed: number;
  bytes: number;
}

/**
 * Finished: no step has an item failed, dead-letter, in progress or pending (pending as `status`
 * counts it: below a known total, interrupted, or handed back by `retry-failed`), and no step's
 * recorded status is pending, running or failed.
 */
export function isFinished({ listing }: ReadListing, view: CheckpointView): boolean {
  if (!listing.items) return false;
  for (const step of view.state.steps.values()) {
    // Pending counts what is left below a known total, interrupted items and handed-back ones.
    const { failed, deadLetter, inProgress, pending } = step.counts();
    if (failed + deadLetter + inProgress + pending > 0) return false;
    const status = step.summary?.status;
    if (status !== undefined && status !== 'completed') return false;
  }
  return true;
}

const updatedMs = (read: ReadListing): number => Date.parse(read.listing.updatedAt ?? '') || Number.NEGATIVE_INFINITY;

/** The files to remove for a checkpoint that is neither kept, locked nor damaged, with their size; a stale lock directory is listed too. */
async function planFor(read: ReadListing, view: CheckpointView): Promise<{ finished: boolean; files: string[]; bytes: number }> {
  const { path, lock } = read.listing;
  const finished = isFinished(read, view);
  const files = leftoversOf({ path, finished, journalCompacted: view.onDisk?.changes.length === 0 });
  let bytes = 0;
  for (const file of files) bytes += (await lstat(file).catch(() => undefined))?.size ?? 0;
  // A lock left by a process that is gone: taking the lock over removes it.
  if (lock?.alive === false) files.push(`${path}.lock`);
  return { finished, files, bytes };
}

/** Removes the planned files under the checkpoint's lock, after checking nothing changed since it was read. */
async function cleanUnderLock(read: ReadListing, finished: boolean, now: number): Promise<Omit<CleanupEntry, 'path' | 'updatedAt'>> {
  const { path } = read.listing;
  let lock: FileLock;
  try {
    lock = await FileLock.acquire(resolve(path), () => {});
  } catch (error) {
    if (error instanceof CheckpointLockedError) return { decision: 'skipped', reason: 'a run took its lock meanwhile; nothing was removed', removed: [], bytes: 0 };
    throw error;
  }
  const staleLock = read.listing.lock?.alive === false ? [`${path}.lock`] : [];
  try {
    const again = await readListing(path, now);
    if (!again.view || again.listing.damaged !== null || again.listing.updatedAt !== read.listing.updatedAt || isFinished(again, again.view) !== finished) {
      return { decision: 'skipped', reason: 'it changed while cleanup read it (a run used it); nothing was removed — run cleanup again', removed: staleLock, bytes: 0 };
    }
    const plan = await planFor(again, again.view);
    const removed: string[] = [...staleLock];
    try {
      for (const file of plan.files) {
        lock.refresh(); // Never remove a file once the lock is someone else's.
        await unlink(file).catch((error: NodeJS.ErrnoException) => {
          if (error.code !== 'ENOENT') throw error;
        });
        removed.push(file);
      }
    } catch (error) {
      return { decision: 'failed', reason: `stopped: ${(error as Error).message}`, removed, bytes: plan.bytes };
    } finally {
      await fsyncDirectory(resolve(path));
    }
    return { decision: finished ? 'finished' : 'unfinished', reason: null, removed, bytes: plan.bytes };
  } finally {
    await lock.release();
  }
}

/**
 * Cleans up the checkpoints under `directory`: the newest `keep` (by last update) stay untouched;
 * of the older ones, those a live run holds and damaged ones are skipped, finished ones lose
 * their leftovers and unfinished ones their surplus backups ({@link leftoversOf}). With `dryRun`
 * nothing is locked, written or removed: the report says what would be removed.
 */
export async function cleanupDirectory(directory: string, options: { keep: number; dryRun: boolean }, now: number): Promise<CleanupReport> {
  const all = await readDirectory(directory, now);
  const readable = all.filter((read) => read.view !== null && read.listing.damaged === null);
  readable.sort((a, b) => updatedMs(b) - updatedMs(a) || (a.listing.path < b.listing.path ? -1 : 1));
  const kept = new Set(readable.slice(0, options.keep));
  const checkpoints: CleanupEntry[] = [];
  for (const read of all) {
    const { path, updatedAt, damaged, running, lock } = read.listing;
    const entry = (rest: Omit<CleanupEntry, 'path' | 'updatedAt'>): void => void checkpoints.push({ path, updatedAt, ...rest });
    if (damaged !== null || !read.view) {
      entry({ decision: 'skipped', reason: `damaged (${damaged}): never cleaned — see "checkpoint-resume validate ${path}"`, removed: [], bytes: 0 });
    } else if (kept.has(read)) {
      entry({ decision: 'kept', reason: null, removed: [], bytes: 0 });
    } else if (running) {
      entry({ decision: 'skipped', reason: `${describeLock(lock)}: a run is using it`, removed: [], bytes: 0 });
    } else {
      const plan = await planFor(read, read.view);
      const decision = plan.finished ? 'finished' : 'unfinished';
      if (options.dryRun || plan.files.length === 0) entry({ decision, reason: null, removed: plan.files, bytes: plan.bytes });
      else entry(await cleanUnderLock(read, plan.finished, now));
    }
  }
  const removed = checkpoints.reduce((sum, checkpoint) => sum + checkpoint.removed.length, 0);
  const bytes = checkpoints.reduce((sum, checkpoint) => sum + checkpoint.bytes, 0);
  return { location: directory, keep: options.keep, dryRun: options.dryRun, checkpoints, removed, bytes };
}

export function printCleanup(report: CleanupReport, out: Output, now: number): void {
  const { style } = out;
  if (report.checkpoints.length === 0) {
    out.line(`No checkpoints under ${report.location}.`);
    return;
  }
  const would = report.dryRun ? 'would remove' : 'removed';
  out.line(`${report.dryRun ? 'Would clean up' : 'Cleaned up'} ${report.location}, keeping the newest ${report.keep} checkpoint(s) untouched:`);
  for (const checkpoint of report.checkpoints) {
    const updated = checkpoint.updatedAt ? `, updated ${formatTime(checkpoint.updatedAt, now)}` : '';
    const what =
      checkpoint.decision === 'kept' ? 'kept' :
      checkpoint.decision === 'skipped' ? style.yellow(`skipped: ${checkpoint.reason}`) :
      checkpoint.decision === 'failed' ? style.red(`failed: ${checkpoint.reason}`) :
      checkpoint.removed.length === 0 ? `${checkpoint.decision}, nothing to remove` :
      `${checkpoint.decision}, ${would} ${checkpoint.removed.length} file(s)`;
    out.line(`  ${checkpoint.path}${updated}: ${what}`);
    for (const file of checkpoint.removed) out.line(style.dim(`    ${file}`));
  }
  out.line(`${report.dryRun ? 'Would remove' : 'Removed'} ${report.removed} file(s), ${formatBytes(report.bytes)}.${report.dryRun ? ' Nothing was changed (--dry-run).' : ''}`);
}
