import { CheckpointArgumentError, describeValue } from '../core/errors.js';
import { findNonJson, isJsonObject, type JsonObject } from '../core/json.js';
import type { StepSummary } from '../core/model.js';

const HINT = 'checkpoints hold JSON only — return plain data (dates as date.toISOString(), BigInt as a string)';

/**
 * The context a resumed run starts with: the initial context, then the memoised results of the
 * steps that completed earlier, then the context saved after the last completed step (it is
 * the newest: it also holds what steps changed in place).
 */
export function restoreContext(initial: JsonObject, completed: readonly StepSummary[], saved: Readonly<JsonObject>): JsonObject {
  const context: JsonObject = structuredClone(initial);
  for (const summary of completed) {
    if (isJsonObject(summary.result)) Object.assign(context, structuredClone(summary.result));
  }
  return Object.assign(context, structuredClone(saved));
}

/**
 * Merges what step `name` returned into `context`, refusing anything JSON cannot hold here — at
 * the step that produced it — rather than as a corrupt or silently changed checkpoint later.
 * Returns the result to memoise, if any.
 */
export function mergeStepResult(name: string, context: JsonObject, returned: unknown): JsonObject | undefined {
  if (returned !== undefined && !isJsonObject(returned)) {
    throw new CheckpointArgumentError(
      `Expected step "${name}" to return a plain object to merge into the context, or nothing, got ${describeValue(returned)}`,
    );
  }
  if (returned !== undefined) {
    const problem = findNonJson(returned, 'result');
    if (problem) throw new CheckpointArgumentError(`step "${name}" returned a value JSON cannot hold: ${problem}; ${HINT}`);
    Object.assign(context, returned);
  }
  const problem = findNonJson(context, 'context');
  if (problem) throw new CheckpointArgumentError(`step "${name}" left a value in the context that JSON cannot hold: ${problem}; ${HINT}`);
  return returned;
}

/** Checks the metadata a step set (it may have assigned to `step.metadata` directly). */
export function assertStepMetadata(name: string, metadata: JsonObject): void {
  const problem = findNonJson(metadata, 'metadata');
  if (problem) throw new CheckpointArgumentError(`step "${name}" set metadata JSON cannot hold: ${problem}; ${HINT}`);
}
