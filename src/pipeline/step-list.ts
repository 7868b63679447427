import { CheckpointMismatchError } from '../core/errors.js';
import type { CheckpointManager } from '../manager/checkpoint-manager.js';

const list = (names: readonly string[]): string => `[${names.map((name) => `"${name}"`).join(', ')}]`;

/** The pipeline steps a checkpoint knows: those with a step summary, in the order they appeared. */
export function savedStepList(checkpoint: CheckpointManager): string[] {
  return checkpoint.steps.filter((name) => checkpoint.getStepSummary(name) !== undefined);
}

/**
 * Refuses a checkpoint written by a different step list: its completed steps would be matched
 * to the wrong work (a renamed step looks new, a removed one leaves results nobody reads).
 * Order is not compared — a step discarded by a version change is saved again at the end.
 * A checkpoint where nothing has run yet (a run killed while it wrote its first summaries) has
 * nothing to mismatch: the steps it has that the pipeline lacks are returned, to be forgotten.
 */
export function checkStepList(checkpoint: CheckpointManager, pipeline: string, names: readonly string[]): string[] {
  const saved = savedStepList(checkpoint);
  const added = names.filter((name) => !saved.includes(name));
  const removed = saved.filter((name) => !names.includes(name));
  if (added.length === 0 && removed.length === 0) return [];
  const untouched = saved.every((name) => checkpoint.getStepSummary(name)?.status === 'pending') && Object.keys(checkpoint.context).length === 0;
  if (untouched) return removed;
  const difference = [
    added.length ? `not in the checkpoint: ${list(added)}` : '',
    removed.length ? `no longer in the pipeline: ${list(removed)}` : '',
  ].filter(Boolean).join('; ');
  throw new CheckpointMismatchError(
    'steps',
    `${checkpoint.location} was written by pipeline "${pipeline}" with the steps ${list(saved)}, but the pipeline now has ${list(names)} (${difference}) — ` +
      'run with { force: true } to discard the checkpoint and start over, or use another path',
    [...names],
    saved,
  );
}
