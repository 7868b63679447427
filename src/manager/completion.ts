import { checkOptions, rules, type OptionRule } from '../core/validate-options.js';
import type { CheckpointState } from '../core/state.js';

/** Options of `complete()`. */
export interface CompleteCheckpointOptions {
  /**
   * Remove the checkpoint even if failed, in-progress or dead-letter items are left (they are
   * then never retried). `keepOnComplete` still keeps it.
   * @default false
   */
  force?: boolean;
}

/** Items that are neither completed nor pending: what removing the checkpoint would lose. */
export interface ItemsLeft {
  /** Failed items, retried by the next run unless `retryFailed: false`. */
  failed: number;
  /** Items marked in progress and not finished, in this run or an interrupted earlier one. */
  inProgress: number;
  /** Items that reached `maxAttempts`; `checkpoint-resume retry-failed` makes them pending again. */
  deadLetters: number;
  /** Failed items that `retry-failed` handed back and no run has done yet. */
  handedBack: number;
}

/** What `complete()` did. */
export interface CompleteResult {
  /** True if the checkpoint was deleted; false if it was kept (items left, or `keepOnComplete`). */
  removed: boolean;
  /** The items left over all steps, and per step (only steps with something left). */
  left: ItemsLeft & { steps: Record<string, ItemsLeft> };
}

const COMPLETE_OPTIONS = { force: rules.boolean } satisfies Record<keyof CompleteCheckpointOptions, OptionRule>;

/** Checks the argument of `complete()`. */
export function validateCompleteOptions(options: unknown): asserts options is CompleteCheckpointOptions | undefined {
  if (options !== undefined) checkOptions(options, COMPLETE_OPTIONS, 'complete()');
}

/** Counts the items left in every step of `state`. */
export function itemsLeft(state: CheckpointState): CompleteResult['left'] {
  const left: CompleteResult['left'] = { failed: 0, inProgress: 0, deadLetters: 0, handedBack: 0, steps: {} };
  const steps: [string, ItemsLeft][] = [];
  for (const [name, step] of state.steps) {
    const counts = step.counts();
    const own = { failed: counts.failed, inProgress: counts.inProgress + counts.interrupted, deadLetters: counts.deadLetter, handedBack: counts.handedBack };
    if (!hasItemsLeft(own)) continue;
    steps.push([name, own]);
    left.failed += own.failed;
    left.inProgress += own.inProgress;
    left.deadLetters += own.deadLetters;
    left.handedBack += own.handedBack;
  }
  // fromEntries defines own properties, so a step named "__proto__" stays a plain key.
  left.steps = Object.fromEntries(steps);
  return left;
}

/** What `complete()` does: remove the checkpoint, or keep it — saying why when items are left. */
export function decideCompletion(
  state: CheckpointState,
  location: string,
  policy: { force: boolean; keepOnComplete: boolean; retryFailed: boolean },
): { remove: boolean; left: CompleteResult['left']; warning?: string } {
  const left = itemsLeft(state);
  if (policy.keepOnComplete) return { remove: false, left };
  if (!policy.force && hasItemsLeft(left)) return { remove: false, left, warning: itemsLeftWarning(location, left, policy.retryFailed) };
  return { remove: true, left };
}

export const hasItemsLeft = (left: ItemsLeft): boolean => left.failed + left.inProgress + left.deadLetters + left.handedBack > 0;

const plural = (count: number, one: string, many: string): string => `${count} ${count === 1 ? one : many}`;

function describeLeft(left: ItemsLeft): string {
  const parts: string[] = [];
  if (left.failed > 0) parts.push(`${left.failed} failed`);
  if (left.inProgress > 0) parts.push(`${left.inProgress} in progress`);
  if (left.deadLetters > 0) parts.push(plural(left.deadLetters, 'dead letter', 'dead letters'));
  if (left.handedBack > 0) parts.push(`${left.handedBack} handed back by retry-failed`);
  return parts.join(', ');
}

/** The warning of a `complete()` that kept the checkpoint: what is left, and how to go on. */
export function itemsLeftWarning(location: string, left: CompleteResult['left'], retryFailed: boolean): string {
  const names = Object.keys(left.steps);
  const shown = names.slice(0, 5).map((name) => `step "${name}": ${describeLeft(left.steps[name]!)}`);
  if (names.length > shown.length) shown.push(`${names.length - shown.length} more steps`);
  // Without retryFailed, failed items wait for retry-failed like dead letters.
  const retried = items([retryFailed ? ['failed', left.failed] : ['failed', 0], ['unfinished', left.inProgress + left.handedBack]]);
  const stuck = items([retryFailed ? ['failed', 0] : ['failed', left.failed], ['dead-letter', left.deadLetters]]);
  const hints: string[] = [];
  if (retried) hints.push(`run again to retry ${retried}`);
  if (stuck) hints.push(`run "npx checkpoint-resume retry-failed ${location}" to make ${stuck} pending again`);
  hints.push('call complete({ force: true }) to remove the checkpoint anyway');
  return `${location}: complete() kept the checkpoint instead of removing it, because items are left (${shown.join('; ')}) — ${hints.join(', or ')}`;
}

/** "the failed item", "the 3 failed and unfinished items"; empty when there are none. */
function items(kinds: [string, number][]): string {
  const present = kinds.filter(([, count]) => count > 0);
  const total = present.reduce((sum, [, count]) => sum + count, 0);
  if (total === 0) return '';
  const adjectives = present.map(([kind]) => kind).join(' and ');
  return total === 1 ? `the ${adjectives} item` : `the ${total} ${adjectives} items`;
}
