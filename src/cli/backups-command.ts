import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { CheckpointCorruptError, CheckpointError, describeProblem } from '../core/errors.js';
import type { CheckpointDocument } from '../core/model.js';
import { FileLock } from '../stores/file/file-lock.js';
import { fsyncDirectory, renameIfExists, replaceFile, unusedAsideName } from '../stores/file/fs-durable.js';
import { sealedJournals } from '../stores/file/journal.js';
import { findBackups, snapshotFormatFor } from '../stores/file/read-checkpoint.js';
import { readSnapshot } from '../stores/file/snapshot-file.js';
import { formatBytes, formatTime, truncate } from './human.js';
import type { Output } from './output.js';
import { renderTable } from './table.js';
import { CliError } from './cli-error.js';

/** One snapshot file — the checkpoint itself or a backup — as `backups --json` lists it. */
export interface SnapshotFileInfo {
  /** The N of `restore --backup N` (0 for `file.bak`); null for the checkpoint file itself. */
  index: number | null;
  path: string;
  /** When the file was written (its modification time). */
  savedAt: string;
  bytes: number;
  valid: boolean;
  /** Why it is not valid. */
  problem: string | null;
  items: { completed: number; failed: number; other: number } | null;
  stages: number | null;
}

export interface BackupsReport {
  location: string;
  current: SnapshotFileInfo | null;
  backups: SnapshotFileInfo[];
}

function countItems(document: CheckpointDocument): NonNullable<SnapshotFileInfo['items']> {
  const items = { completed: 0, failed: 0, other: 0 };
  for (const step of Object.values(document.steps)) {
    items.completed += step.completedItems.length;
    items.failed += (step.failedItems?.length ?? 0) + (step.deadLetterItems?.length ?? 0);
    items.other += (step.inProgressItems?.length ?? 0) + (step.pendingItems?.length ?? 0);
  }
  return items;
}

function describeError(error: unknown): string {
  if (error instanceof CheckpointCorruptError) return describeProblem(error.problems[0]);
  if (error instanceof CheckpointError) return error.message;
  throw error;
}

async function describeSnapshot(path: string, index: number | null, location: string): Promise<SnapshotFileInfo | null> {
  let info;
  try {
    info = await stat(path);
  } catch {
    return null;
  }
  const base = { index, path, savedAt: info.mtime.toISOString(), bytes: info.size };
  try {
    const snapshot = await readSnapshot(path, snapshotFormatFor(location));
    if (!snapshot) return null;
    return { ...base, valid: true, problem: null, items: countItems(snapshot.content), stages: snapshot.content.stages.length };
  } catch (error) {
    return { ...base, valid: false, problem: describeError(error), items: null, stages: null };
  }
}

/** Lists the checkpoint file and its backups, each checked, without changing anything. */
export async function listBackups(location: string): Promise<BackupsReport> {
  snapshotFormatFor(location);
  const current = await describeSnapshot(location, null, location);
  const backups: SnapshotFileInfo[] = [];
  for (const backup of findBackups(location)) {
    const info = await describeSnapshot(backup.path, backup.index, location);
    if (info) backups.push(info);
  }
  return { location, current, backups };
}

export function printBackups(report: BackupsReport, out: Output, now: number): void {
  const { style } = out;
  if (report.backups.length === 0) out.line(`${report.location} has no backups yet (one is kept each time the journal is compacted into the snapshot).`);
  const rows = [...(report.current ? [report.current] : []), ...report.backups].map((file) => [
    file.index === null ? 'current' : String(file.index),
    file.path,
    formatTime(file.savedAt, now),
    formatBytes(file.bytes),
    file.items ? String(file.items.completed) : '',
    file.items ? String(file.items.failed) : '',
    file.valid ? style.green('valid') : style.red(`damaged: ${truncate(file.problem ?? '', 60)}`),
  ]);
  if (rows.length === 0) return;
  const columns = [
    { header: 'N', align: 'right' as const },
    { header: 'File' },
    { header: 'Saved' },
    { header: 'Size', align: 'right' as const },
    { header: 'Completed', align: 'right' as const },
    { header: 'Failed', align: 'right' as const },
    { header: 'Check' },
  ];
  for (const line of renderTable(columns, rows)) out.line(line);
  if (report.backups.some((backup) => backup.valid)) out.line(style.dim(`Restore one with: checkpoint-resume restore ${report.location} --backup N`));
}

export interface RestoreResult {
  from: string;
  /** Where the replaced checkpoint file and its journals were moved (never deleted). */
  movedAside: string[];
}

/**
 * Makes backup `index` the checkpoint again. Holds the checkpoint's lock meanwhile, so it is
 * refused while a pipeline runs. The current file and its journals (whose records belong to the
 * current file, not the backup) are moved aside as `.replaced-<time>` — `.corrupt-<time>` when
 * the file is damaged — never deleted.
 */
export async function restoreBackup(location: string, index: number): Promise<RestoreResult> {
  const format = snapshotFormatFor(location);
  const file = resolve(location);
  const backups = findBackups(location);
  const backup = backups.find((candidate) => candidate.index === index);
  if (!backup) {
    const known = backups.map((candidate) => candidate.index).join(', ');
    throw new CliError(`${location}: there is no backup ${index} — ${known ? `the backups are: ${known} (see "checkpoint-resume backups ${location}")` : 'it has no backups'}`);
  }
  const lock = await FileLock.acquire(file, () => {});
  try {
    try {
      await readSnapshot(backup.path, format);
    } catch (error) {
      throw new CliError(`${backup.path} is damaged (${describeError(error)}) — choose another backup (see "checkpoint-resume backups ${location}")`);
    }
    const text = await readFile(backup.path);
    let damaged = false;
    try {
      await readSnapshot(file, format);
    } catch {
      damaged = true;
    }
    const movedAside: string[] = [];
    for (const from of [location, `${location}.journal`, ...sealedJournals(`${location}.journal`)]) {
      const to = unusedAsideName(from, damaged ? 'corrupt' : 'replaced');
      if (await renameIfExists(from, to)) movedAside.push(to);
    }
    await replaceFile(file, text);
    await fsyncDirectory(file);
    return { from: backup.path, movedAside };
  } finally {
    await lock.release();
  }
}
