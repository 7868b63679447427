import type { ErrorInfo, ItemStatus, StepSummary } from '../core/model.js';
import { attemptsOf } from '../core/item-rules.js';
import type { JsonValue } from '../core/json.js';
import type { CheckpointState, StepState } from '../core/state.js';
import { stepProgress, type StepProgressCounts } from '../core/step-progress.js';

export interface StepProgress extends StepProgressCounts {
  status?: StepSummary['status'];
}

export interface FailedItem {
  key: string;
  status: 'failed' | 'dead_letter';
  attempts: number;
  error?: ErrorInfo;
}

/** What `getProgressSummary()` returns: counts per step, stages, counters and times. */
export interface ProgressSummary {
  pipeline: string | undefined;
  runId: string;
  steps: Record<string, StepProgress>;
  /** Completed stages, in the order they completed. */
  stages: string[];
  counters: Record<string, number>;
  /** How many entries the error log holds. */
  errors: number;
  createdAt: string;
  updatedAt: string;
}

export function progressSummary(state: CheckpointState, now: number): ProgressSummary {
  const steps: [string, StepProgress][] = [];
  for (const [name, step] of state.steps) {
    steps.push([name, { ...stepProgress(step, now), ...(step.summary ? { status: step.summary.status } : {}) }]);
  }
  const { pipeline, runId, createdAt } = state.metadata;
  return {
    pipeline,
    runId,
    // fromEntries defines own properties, so a step named "__proto__" stays a plain key.
    steps: Object.fromEntries(steps),
    stages: [...state.stages.keys()],
    counters: Object.fromEntries(state.counters),
    errors: state.errors.length,
    createdAt,
    updatedAt: new Date(Math.max(state.updatedAt, Date.parse(createdAt) || 0)).toISOString(),
  };
}

export function failedItemsOf(state: CheckpointState, step: string): FailedItem[] {
  const out: FailedItem[] = [];
  for (const [key, record] of state.steps.get(step)?.items ?? []) {
    if (record.status !== 'failed' && record.status !== 'dead_letter') continue;
    out.push({ key, status: record.status, attempts: record.attempts, ...(record.error ? { error: record.error } : {}) });
  }
  return out;
}

/** What `getItem` returns: an item's status, attempts, and last error and result if it has them. */
export interface ItemInfo {
  status: ItemStatus;
  attempts: number;
  error?: ErrorInfo;
  result?: JsonValue;
}

export function itemInfo(step: StepState | undefined, key: string): ItemInfo {
  const record = step?.items.get(key);
  const status = step?.status(key) ?? 'pending';
  return record ? { ...record, status } : { status, attempts: attemptsOf(step, key) };
}
