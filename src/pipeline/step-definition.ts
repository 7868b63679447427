import { CheckpointArgumentError, describeValue } from '../core/errors.js';
import type { JsonObject } from '../core/json.js';
import type { PipelineStep } from './pipeline-step.js';

/** What a step may return: fields to merge into the context, or nothing. */
export type StepReturn<Ctx extends JsonObject> = Partial<Ctx> | void | undefined;

/**
 * One step of a Pipeline.
 *
 * @example
 * { name: 'extract', description: 'extract frames', version: 2,
 *   run: async (ctx, step) => { ...; return { frames: 120 }; } }
 */
export interface StepDefinition<Ctx extends JsonObject> {
  /** Unique within the pipeline; it names the step in the checkpoint, in logs and in errors. */
  name: string;
  /** Shown in logs and kept in the step summary. */
  description?: string;
  /**
   * Steps sharing a group run again together when any of them did not complete — for steps that
   * only make sense as a unit (checking out a repository, then preparing it).
   */
  group?: string;
  /**
   * Change it when the step's code changes in a way that makes earlier results wrong: on the
   * next run the step's completed items and memoised result are discarded and it runs again.
   */
  version?: number | string;
  /**
   * Does the work. `ctx` is the context so far; the returned object is merged into it and saved
   * with the step, so that a resumed run that skips this step still sees it. `step` is bound to
   * this step's items (`isItemCompleted`, `markItemCompleted`, `forEach`, …) and `metadata`.
   */
  run(ctx: Ctx, step: PipelineStep): Promise<StepReturn<Ctx>> | StepReturn<Ctx>;
}

const NAME_LIMIT = 1024;

/** Checks what `steps()` returned: an array of definitions with unique names and a `run`. */
export function validateSteps<Ctx extends JsonObject>(pipeline: string, steps: unknown): asserts steps is StepDefinition<Ctx>[] {
  if (!Array.isArray(steps) || steps.length === 0) {
    throw new CheckpointArgumentError(`Expected \`${pipeline}.steps()\` to return a non-empty array of steps, got ${describeValue(steps)}`);
  }
  const seen = new Set<string>();
  steps.forEach((step: unknown, index) => {
    const where = `\`${pipeline}.steps()[${index}]`;
    if (typeof step !== 'object' || step === null) {
      throw new CheckpointArgumentError(`Expected ${where}\` to be a step { name, run }, got ${describeValue(step)}`);
    }
    const { name, run, group, version, description } = step as Record<string, unknown>;
    if (typeof name !== 'string' || name.length === 0 || name.length > NAME_LIMIT) {
      throw new CheckpointArgumentError(`Expected ${where}.name\` to be a non-empty string, got ${describeValue(name)}`);
    }
    if (seen.has(name)) throw new CheckpointArgumentError(`Expected step names to be unique, got "${name}" twice in \`${pipeline}.steps()\``);
    seen.add(name);
    if (typeof run !== 'function') {
      throw new CheckpointArgumentError(`Expected ${where}.run\` (step "${name}") to be a function, got ${describeValue(run)}`);
    }
    if (group !== undefined && (typeof group !== 'string' || group.length === 0)) {
      throw new CheckpointArgumentError(`Expected ${where}.group\` (step "${name}") to be a non-empty string, got ${describeValue(group)}`);
    }
    if (version !== undefined && typeof version !== 'string' && !(typeof version === 'number' && Number.isFinite(version))) {
      throw new CheckpointArgumentError(`Expected ${where}.version\` (step "${name}") to be a number or a string, got ${describeValue(version)}`);
    }
    if (description !== undefined && typeof description !== 'string') {
      throw new CheckpointArgumentError(`Expected ${where}.description\` (step "${name}") to be a string, got ${describeValue(description)}`);
    }
  });
}
