import { CheckpointArgumentError, describeValue } from '../core/errors.js';
import { assertJson, isJsonObject, type JsonObject, type JsonValue } from '../core/json.js';
import type { CheckpointChange, StepSummary } from '../core/model.js';
import { assertName, clone } from './arguments.js';

/**
 * The changes behind the manager's calls other than the item marks, each built from checked
 * arguments: a bad argument throws here, before anything is handed to the store. Values are
 * copied, so that later changes by the caller do not reach the checkpoint.
 */

export function stageChange(stage: string, result: JsonValue | undefined, at: number): CheckpointChange {
  assertName('stage', stage);
  if (result === undefined) return { op: 'stage', stage, at };
  assertJson(result, 'result');
  return { op: 'stage', stage, at, result: clone(result) };
}

export function contextChange(context: JsonObject): CheckpointChange {
  if (!isJsonObject(context)) throw new CheckpointArgumentError(`Expected \`context\` to be a plain object, got ${describeValue(context)}`);
  assertJson(context, 'context');
  return { op: 'context', context: clone(context) };
}

/** Counters are saved as values, not increments (see CheckpointChange): `current + by`. */
export function counterChange(name: string, current: number, by: number): CheckpointChange & { op: 'counter' } {
  if (typeof by !== 'number' || !Number.isFinite(by)) {
    throw new CheckpointArgumentError(`Expected \`by\` to be a finite number, got ${describeValue(by)}`);
  }
  return { op: 'counter', name, value: current + by };
}

export function summaryChange(step: string, summary: StepSummary): CheckpointChange {
  assertName('step', step);
  assertJson(summary, 'summary');
  return { op: 'step', step, summary: clone(summary as unknown as JsonObject) as unknown as StepSummary };
}

export function totalChange(step: string, total: number): CheckpointChange & { op: 'total' } {
  assertName('step', step);
  if (!Number.isSafeInteger(total) || total < 0) {
    throw new CheckpointArgumentError(`Expected \`total\` to be a whole number >= 0, got ${describeValue(total)}`);
  }
  return { op: 'total', step, total };
}

export function resetStepChange(step: string, at: number): CheckpointChange {
  assertName('step', step);
  return { op: 'resetStep', step, at };
}

export function retryFailedChange(step: string | undefined, at: number): CheckpointChange {
  if (step === undefined) return { op: 'retryFailed', at };
  assertName('step', step);
  return { op: 'retryFailed', step, at };
}

/** Checks the `items` of `pendingItems`: anything iterable. */
export function assertIterable(items: unknown): asserts items is Iterable<unknown> {
  if (typeof (items as { [Symbol.iterator]?: unknown } | null | undefined)?.[Symbol.iterator] !== 'function') {
    throw new CheckpointArgumentError(`Expected \`items\` to be an array or another iterable, got ${describeValue(items)}`);
  }
}
