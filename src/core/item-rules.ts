import type { ItemDetail, ItemStatus, StepDocument } from './model.js';
import type { StepState } from './state.js';

/**
 * The rules of one item's life, in one place: how attempts are counted, when a failure becomes a
 * dead letter, and which items are still to do. The manager, the state and the stores ask here
 * instead of deciding for themselves. Called on every mark, so they allocate nothing.
 */

/** The attempts an item has had: its record's count; a completed item without one had one. */
export function attemptsOf(step: StepState | undefined, key: string): number {
  const record = step?.items.get(key);
  if (record) return record.attempts;
  return step?.completed.has(key) === true ? 1 : 0;
}

/**
 * The attempt count a mark records. Marking an item in progress starts a new attempt; completing
 * or failing it ends the attempt that was started — or, when none was, counts as one of its own.
 */
export function attemptsAfter(step: StepState | undefined, key: string, status: 'in_progress' | 'completed' | 'failed'): number {
  if (status !== 'in_progress') {
    const record = step?.items.get(key);
    if (record?.status === 'in_progress') return record.attempts;
  }
  return attemptsOf(step, key) + 1;
}

/**
 * What a failed (or interrupted) item becomes after `attempts` attempts: a dead letter once it
 * reached `maxAttempts`, so that an item that fails (or crashes the process) every time cannot
 * block the run forever; failed otherwise, to be retried.
 */
export function statusAfterFailure(attempts: number, maxAttempts: number): 'failed' | 'dead_letter' {
  return attempts >= maxAttempts ? 'dead_letter' : 'failed';
}

/**
 * Whether an item with this status is still to do: pending and interrupted (in progress) items
 * are; failed ones unless `retryFailed` is false; completed items and dead letters never are.
 */
export function isPendingStatus(status: ItemStatus, retryFailed: boolean): boolean {
  return status === 'pending' || status === 'in_progress' || (status === 'failed' && retryFailed);
}

const DETAIL_LISTS = [
  ['failedItems', 'failed'],
  ['inProgressItems', 'in_progress'],
  ['pendingItems', 'pending'],
  ['deadLetterItems', 'dead_letter'],
  ['completedDetails', 'completed'],
] as const satisfies readonly (readonly [keyof StepDocument, ItemStatus])[];

/**
 * Visits the items a step document lists with details, list by list in the order that decides an
 * item listed twice (a hand-edited or merged file): a later list wins, `completedDetails` last.
 * Every reader of a StepDocument goes through here, so that they agree on what an item is. A
 * callback rather than a generator: a checkpoint may list a million items with results.
 */
export function forEachDetailedItem(step: StepDocument, visit: (detail: ItemDetail, status: ItemStatus) => void): void {
  for (const [list, status] of DETAIL_LISTS) {
    for (const detail of step[list] ?? []) visit(detail, status);
  }
}
