import { CheckpointCorruptError, CheckpointStoreError, describeProblem } from '../core/errors.js';
import type { StepItemCounts } from '../stores/postgres/options.js';
import { findCheckpoints } from './find-checkpoints.js';
import { formatTime, truncate } from './human.js';
import type { Output } from './output.js';
import { buildStatus, type StatusReport, type StepStatusReport } from './status-command.js';
import { renderTable } from './table.js';
import { ITEM_COLUMNS, itemCells } from './list-command.js';
import { isBucketUrl } from '../stores/object/stores-by-scheme.js';
import { findObjectCheckpoints } from './object-target.js';
import { loadForReading, type CheckpointView } from './target.js';

/** One checkpoint as `list <dir>` and `list <bucket URL>` show it with `--json`. */
export interface FileCheckpointListing {
  /** The snapshot's path (the directory given joined with the names below it), or its object's URL. */
  path: string;
  /** 'JSON' or 'YAML'. */
  format: string;
  /** Null when the checkpoint cannot be read at all (`damaged` says why), or names no pipeline. */
  pipeline: string | null;
  runId: string | null;
  createdAt: string | null;
  updatedAt: string | null;
  /** Items over all steps, as `list <url>` counts them; `pending` as `status` counts it (items still to do, failed ones aside). */
  items: StepItemCounts | null;
  /** Items the steps expect in all, when every step knows its total; null otherwise. */
  total: number | null;
  /** completed / total, 0–100 with one decimal, when the total is known. */
  percent: number | null;
  /** Who holds the lock, as in `status --json`; null when nobody does. */
  lock: StatusReport['lock'];
  /** Whether a live process (or one that cannot be checked from here) holds the lock. */
  running: boolean;
  /** Why the checkpoint file cannot be used; null when it is fine. */
  damaged: string | null;
  /** The backup the counts come from when the file is damaged; null otherwise. */
  loadedFrom: string | null;
}

/** What `checkpoint-resume list <dir>` (or `<bucket URL>`) prints with `--json`. */
export interface DirectoryListReport {
  /** The directory or bucket URL as given. */
  location: string;
  checkpoints: FileCheckpointListing[];
}

/** A file checkpoint read for `list` and `cleanup`: its listing, and the view it came from (none when unreadable). */
export interface ReadListing {
  listing: FileCheckpointListing;
  view: CheckpointView | null;
}

/** The items the steps expect in all; a step without a total makes it unknown. */
function totalOf(steps: readonly StepStatusReport[]): number | null {
  let sum = 0;
  for (const step of steps) {
    if (step.total === null) return null;
    sum += step.total;
  }
  return steps.length > 0 ? sum : null;
}

function problemOf(error: unknown): string {
  if (error instanceof CheckpointCorruptError && error.problems.length > 0) return describeProblem(error.problems[0]);
  return error instanceof Error ? error.message : String(error);
}

/**
 * Reads one checkpoint (a file path, or an object URL) without writing or locking; a checkpoint
 * that cannot be read is listed as damaged, not thrown.
 */
export async function readListing(path: string, now: number): Promise<ReadListing> {
  const format = /\.json$/i.test(path) ? 'JSON' : 'YAML';
  let view: CheckpointView;
  try {
    view = await loadForReading(isBucketUrl(path) ? { kind: 'object', url: path } : { kind: 'file', path });
  } catch (error) {
    // Without credentials or a reachable bucket, nothing can be listed: said once, not per checkpoint.
    if (error instanceof CheckpointStoreError) throw error;
    const listing: FileCheckpointListing = {
      path, format, pipeline: null, runId: null, createdAt: null, updatedAt: null, items: null, total: null, percent: null,
      lock: null, running: false, damaged: problemOf(error), loadedFrom: null,
    };
    return { listing, view: null };
  }
  const status = buildStatus(view, now);
  const steps = Object.values(status.steps);
  const items: StepItemCounts = { pending: 0, inProgress: 0, completed: 0, failed: 0, deadLetter: 0 };
  for (const step of steps) {
    items.pending += step.pending;
    items.inProgress += step.inProgress;
    items.completed += step.completed;
    items.failed += step.failed;
    items.deadLetter += step.deadLetter;
  }
  const total = totalOf(steps);
  const listing: FileCheckpointListing = {
    path,
    format: status.format,
    pipeline: status.pipeline,
    runId: status.runId,
    createdAt: status.createdAt,
    updatedAt: status.updatedAt,
    items,
    total,
    percent: total ? Math.round((items.completed / total) * 1000) / 10 : null,
    lock: status.lock,
    running: status.lock !== null && status.lock.alive !== false,
    damaged: view.damage ? problemOf(view.damage) : null,
    loadedFrom: status.loadedFrom,
  };
  return { listing, view };
}

/** Finds and reads every checkpoint under `directory`, one at a time (a big one is read whole). */
export async function readDirectory(directory: string, now: number): Promise<ReadListing[]> {
  const read: ReadListing[] = [];
  for (const path of await findCheckpoints(directory)) read.push(await readListing(path, now));
  return read;
}

/** The checkpoints under a directory, or under the prefix of a bucket URL (`az://container/runs/`). */
export async function listDirectory(directory: string, now: number, pipeline?: string): Promise<DirectoryListReport> {
  const paths = isBucketUrl(directory) ? await findObjectCheckpoints(directory) : await findCheckpoints(directory);
  const checkpoints: FileCheckpointListing[] = [];
  for (const path of paths) checkpoints.push((await readListing(path, now)).listing);
  return { location: directory, checkpoints: pipeline === undefined ? checkpoints : checkpoints.filter((checkpoint) => checkpoint.pipeline === pipeline) };
}

/** "who holds the lock" in a few words. */
export function describeLock(lock: StatusReport['lock']): string {
  if (!lock) return 'free';
  const who = `${lock.pid === null ? 'an unknown process' : `process ${lock.pid}`}${lock.host ? ` on ${lock.host}` : ''}`;
  return lock.alive === false ? `left by ${who} (no longer running)` : `held by ${who}`;
}

/** The Lock column: who holds it; unknown for a checkpoint that could not be read at all (its lock was not read either). */
function lockCell(checkpoint: FileCheckpointListing, style: Output['style']): string {
  if (checkpoint.items === null && checkpoint.damaged !== null) return style.dim('unknown');
  return checkpoint.running ? style.yellow(describeLock(checkpoint.lock)) : describeLock(checkpoint.lock);
}

export function printDirectoryList(report: DirectoryListReport, out: Output, now: number): void {
  const { style } = out;
  if (report.checkpoints.length === 0) {
    out.line(`No checkpoints under ${report.location}.`);
    return;
  }
  const rows = report.checkpoints.map((checkpoint) => {
    const { items, total, percent, damaged, loadedFrom } = checkpoint;
    const check = damaged === null ? style.green('ok') : style.red(loadedFrom ? `damaged, showing ${loadedFrom}` : `damaged: ${truncate(damaged, 60)}`);
    return [
      checkpoint.path,
      checkpoint.pipeline ?? style.dim('-'),
      ...(items ? itemCells(items, style) : ['', '', '']),
      total === null ? style.dim('-') : `${total} (${percent}%)`,
      checkpoint.updatedAt ? formatTime(checkpoint.updatedAt, now) : '',
      lockCell(checkpoint, style),
      check,
    ];
  });
  const columns = [
    { header: 'Checkpoint' },
    { header: 'Pipeline' },
    ...ITEM_COLUMNS,
    { header: 'Total', align: 'right' as const },
    { header: 'Updated' },
    { header: 'Lock' },
    { header: 'Check' },
  ];
  out.line(`Checkpoints under ${report.location}:`);
  for (const line of renderTable(columns, rows)) out.line(line);
  out.line(style.dim(`Look at one with: checkpoint-resume status <${isBucketUrl(report.location) ? 'url' : 'file'}>`));
}
