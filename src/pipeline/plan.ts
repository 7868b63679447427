import type { StepSummary } from '../core/model.js';
import type { PlannedStep } from './run-result.js';

/** What planning needs to know about a step. */
export interface StepOutline {
  name: string;
  group?: string;
  version?: number | string;
}

/** A planned step, plus whether its saved progress must be discarded before it runs. */
export interface StepPlan extends PlannedStep {
  /** Why the step's completed items and memoised result are discarded, if they are. */
  discard?: string;
  /** True when the step completed in an earlier run (its result is in the context). */
  completedBefore: boolean;
}

const show = (version: number | string | undefined): string => (version === undefined ? 'none' : JSON.stringify(version));

/**
 * Decides, from the saved step summaries, which steps of `steps[first..last]` run and which are
 * skipped. A step runs when it did not complete, when its `version` changed, when another step
 * of its group did not complete, or when it completed with failed items to retry (its completed
 * items are still skipped); steps outside the slice never run.
 */
export function planSteps(
  steps: readonly StepOutline[],
  summaries: ReadonlyMap<string, StepSummary>,
  slice: { first: number; last: number },
  withFailedItems: ReadonlySet<string> = new Set(),
): StepPlan[] {
  const versionChange = new Map<string, string>();
  for (const step of steps) {
    const saved = summaries.get(step.name);
    if (saved && saved.status !== 'pending' && saved.version !== step.version) {
      versionChange.set(step.name, `version changed (${show(saved.version)} → ${show(step.version)})`);
    }
  }
  const done = (name: string): boolean => summaries.get(name)?.status === 'completed' && !versionChange.has(name);
  const unfinishedInGroup = new Map<string, string>();
  for (const step of steps) {
    if (step.group !== undefined && !done(step.name) && !unfinishedInGroup.has(step.group)) unfinishedInGroup.set(step.group, step.name);
  }

  return steps.map((step, index): StepPlan => {
    const completedBefore = done(step.name);
    const skip = (reason: string): StepPlan => ({ step: step.name, action: 'skip', reason, completedBefore });
    if (index < slice.first) return skip(completedBefore ? 'completed in an earlier run' : `before \`from\` ("${steps[slice.first]!.name}")`);
    if (index > slice.last) return skip(completedBefore ? 'completed in an earlier run' : `after \`to\` ("${steps[slice.last]!.name}")`);
    const changed = versionChange.get(step.name);
    if (changed) return { step: step.name, action: 'run', reason: changed, discard: changed, completedBefore };
    const blocker = step.group === undefined ? undefined : unfinishedInGroup.get(step.group);
    if (completedBefore && blocker !== undefined) {
      const reason = `group "${step.group}" runs again together: step "${blocker}" did not complete`;
      return { step: step.name, action: 'run', reason, discard: reason, completedBefore };
    }
    if (completedBefore && withFailedItems.has(step.name)) {
      return { step: step.name, action: 'run', reason: 'completed with failed items, which are retried', completedBefore };
    }
    if (completedBefore) return skip('completed in an earlier run');
    return { step: step.name, action: 'run', reason: pendingReason(summaries.get(step.name)), completedBefore };
  });
}

function pendingReason(saved: StepSummary | undefined): string {
  switch (saved?.status) {
    case 'failed':
      return 'failed in an earlier run';
    case 'running':
      return 'interrupted in an earlier run';
    default:
      return 'not run yet';
  }
}
