import { CheckpointArgumentError, describeValue } from '../core/errors.js';
import type { CheckpointOptions } from '../manager/options.js';

/** What to do when the checkpoint cannot be saved (disk full, store unreachable). */
export type SaveErrorPolicy = 'log' | 'throw';

/**
 * Options of a Pipeline: those of `CheckpointManager.open` (`path` or `store`, `durability`,
 * `config`, `logger`, `keepOnComplete`, …) except `pipeline`, which is the pipeline's `name`.
 */
export interface PipelineOptions extends Omit<CheckpointOptions, 'pipeline'> {
  /**
   * `log`: a failed save is logged (and emitted as `saveError`) and the run goes on — losing a
   * checkpoint costs a re-run of some work, not the run. `throw`: the step fails with the error.
   * Losing the lock is never tolerated.
   * @default 'log'
   */
  onSaveError?: SaveErrorPolicy;
}

/** Options of one `run()`. */
export interface RunOptions {
  /**
   * Resume from the checkpoint if there is one. `false` runs every step without reading or
   * writing a checkpoint at all (the steps' item calls work on an in-memory checkpoint).
   * @default true
   */
  resume?: boolean;
  /**
   * Ignore the existing checkpoint — even one of another pipeline, step list or config, or a
   * damaged one — delete it and start a new run.
   * @default false
   */
  force?: boolean;
  /** Run from this step on; earlier steps are not run (completed ones still restore their results). */
  from?: string;
  /** Run up to and including this step; the checkpoint is kept, so a later run goes on from there. */
  to?: string;
  /**
   * Report which steps would run and which would be skipped, and why, without running any and
   * without changing the checkpoint.
   * @default false
   */
  dryRun?: boolean;
  /**
   * Draw a progress bar for the items of each step's `step.forEach` (as its `progress` option),
   * on standard error, only on a terminal and not in CI.
   * @default false
   */
  progress?: boolean;
}

export function validatePipelineOptions(options: unknown): asserts options is PipelineOptions {
  if (typeof options !== 'object' || options === null) {
    throw new CheckpointArgumentError(`Expected options to be an object, got ${describeValue(options)}`);
  }
  const { onSaveError } = options as PipelineOptions;
  if (onSaveError !== undefined && onSaveError !== 'log' && onSaveError !== 'throw') {
    throw new CheckpointArgumentError(`Expected \`onSaveError\` to be 'log' or 'throw', got ${describeValue(onSaveError)}`);
  }
}

/** Checks `options` against the pipeline's step names; returns the indexes of the slice. */
export function validateRunOptions(options: unknown, names: readonly string[]): { first: number; last: number } {
  if (typeof options !== 'object' || options === null) {
    throw new CheckpointArgumentError(`Expected run options to be an object, got ${describeValue(options)}`);
  }
  const { resume, force, dryRun, progress, from, to } = options as RunOptions;
  for (const [key, value] of Object.entries({ resume, force, dryRun, progress })) {
    if (value !== undefined && typeof value !== 'boolean') {
      throw new CheckpointArgumentError(`Expected \`${key}\` to be a boolean, got ${describeValue(value)}`);
    }
  }
  const indexOf = (key: 'from' | 'to', value: unknown, fallback: number): number => {
    if (value === undefined) return fallback;
    const index = typeof value === 'string' ? names.indexOf(value) : -1;
    if (index < 0) {
      throw new CheckpointArgumentError(`Expected \`${key}\` to be one of the steps ${names.map((name) => `"${name}"`).join(', ')}, got ${describeValue(value)}`);
    }
    return index;
  };
  const first = indexOf('from', from, 0);
  const last = indexOf('to', to, names.length - 1);
  if (first > last) {
    throw new CheckpointArgumentError(`Expected \`from\` ("${from}") to come before \`to\` ("${to}") in the step list`);
  }
  return { first, last };
}
