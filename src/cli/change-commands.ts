import { stat } from 'node:fs/promises';
import type { CheckpointManager } from '../manager/checkpoint-manager.js';
import type { Logger } from '../manager/options.js';
import { sealedJournals } from '../stores/file/journal.js';
import { LOG_PREFIX } from '../core/logger.js';
import { formatBytes } from './human.js';
import { CliError } from './cli-error.js';
import { compactDatabase } from './postgres-target.js';
import { openForWriting, type CheckpointTarget } from './target.js';

/** Warnings from the library (e.g. a dropped torn journal tail) go to standard error. */
export function stderrLogger(write: (text: string) => void): Logger {
  // The tool speaks for the library: its prefix gives way to the tool's own.
  const say = (message: string): void => write(`warning: ${message.startsWith(`${LOG_PREFIX} `) ? message.slice(LOG_PREFIX.length + 1) : message}`);
  return { warn: say, error: say };
}

/** Runs `work` on the open checkpoint; `location` names it in messages (never with a password). */
async function withCheckpoint<T>(target: CheckpointTarget, logger: Logger, work: (manager: CheckpointManager, location: string) => Promise<T>): Promise<T> {
  const manager = await openForWriting(target, logger);
  try {
    return await work(manager, target.kind === 'file' ? target.path : manager.location);
  } finally {
    // close() compacts a file: the state before the change becomes the newest backup.
    await manager.close();
  }
}

function assertStep(manager: CheckpointManager, step: string): void {
  if (manager.steps.includes(step)) return;
  const known = manager.steps;
  throw new CliError(`step "${step}" is not in ${manager.location} — ${known.length ? `its steps are: ${known.join(', ')}` : 'it has no steps yet'}`);
}

const itemCount = (counts: { completed: number; failed: number; inProgress: number; interrupted: number; deadLetter: number }): number =>
  counts.completed + counts.failed + counts.inProgress + counts.interrupted + counts.deadLetter;

/** Forgets one step (all its items are done again), or with no step everything but the run id and config. */
export async function resetCheckpoint(target: CheckpointTarget, step: string | undefined, logger: Logger): Promise<string> {
  return withCheckpoint(target, logger, async (manager, location) => {
    const summary = manager.getProgressSummary();
    if (step !== undefined) {
      assertStep(manager, step);
      await manager.resetStep(step);
      return `Reset step "${step}" (${itemCount(summary.steps[step]!)} item(s) forgotten) in ${location}.`;
    }
    const items = Object.values(summary.steps).reduce((sum, counts) => sum + itemCount(counts), 0);
    await manager.resetAll();
    return `Reset ${location}: ${Object.keys(summary.steps).length} step(s), ${items} item(s), ${summary.stages.length} stage(s), context and counters forgotten.`;
  });
}

/** Makes failed and dead-letter items pending again — the seeds' "edit the JSON by hand". */
export async function retryFailed(target: CheckpointTarget, step: string | undefined, logger: Logger): Promise<string> {
  return withCheckpoint(target, logger, async (manager) => {
    if (step !== undefined) assertStep(manager, step);
    const steps = Object.entries(manager.getProgressSummary().steps).filter(([name]) => step === undefined || name === step);
    const failed = steps.reduce((sum, [, counts]) => sum + counts.failed + counts.deadLetter, 0);
    if (failed === 0) return `No failed items${step === undefined ? '' : ` in step "${step}"`}; nothing to change.`;
    await manager.retryFailedItems(step);
    return `${failed} failed item(s)${step === undefined ? '' : ` of step "${step}"`} will be retried on the next run.`;
  });
}

const sizeOf = (file: string): Promise<number> => stat(file).then((info) => info.size, () => 0);
const journalBytes = async (location: string): Promise<number> => {
  let bytes = 0;
  for (const file of [...sealedJournals(`${location}.journal`), `${location}.journal`]) bytes += await sizeOf(file);
  return bytes;
};

/** Folds the journal into a new snapshot now (the previous snapshot becomes the newest backup). */
export async function compactCheckpoint(target: CheckpointTarget, logger: Logger): Promise<string> {
  if (target.kind === 'postgres') return compactDatabase(target);
  if (target.kind === 'object') {
    // Opening a bucket's checkpoint folds its segments into a snapshot of the new holder.
    await withCheckpoint(target, logger, async () => {});
    return `Compacted ${target.url}: its segments are folded into a new snapshot; the previous snapshot is ${target.url}.bak.`;
  }
  const location = target.path;
  const before = { snapshot: await sizeOf(location), journal: await journalBytes(location) };
  await withCheckpoint(target, logger, async () => {});
  if (before.journal === 0) return `${location} is already compact (its journal is empty).`;
  const after = await sizeOf(location);
  return `Compacted ${location}: ${formatBytes(before.journal)} of journal folded in; snapshot ${formatBytes(before.snapshot)} → ${formatBytes(after)}; the previous snapshot is the newest backup.`;
}
