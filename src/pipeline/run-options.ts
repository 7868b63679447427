import { CheckpointArgumentError } from '../core/errors.js';
import { checkOptions, rule, rules, type OptionRule } from '../core/validate-options.js';
import { checkCheckpointOptions, CHECKPOINT_OPTIONS, rejectFileStoreOptionsWithStore } from '../manager/load-state.js';
import type { CheckpointOptions } from '../manager/options.js';
import { PROMPT_RULE, type ResumePrompt } from '../flags/confirm-resume.js';

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
  /**
   * `'auto'`: when the checkpoint has progress and standard input and standard error are
   * terminals, ask whether to resume it, start over or quit (see `confirmResume`); never asked
   * with `force`, `resume: false` or `dryRun`, nor when input is piped (CI, cron): that resumes.
   * `parseCheckpointFlags` gives `'auto'` unless the command line said what to do. An object
   * asks on these streams instead of standard input and error.
   * @default false
   */
  prompt?: ResumePrompt;
  /** The same as `force` (what `--reset-checkpoint` gives); accepted so flags pass as they are. */
  resetCheckpoint?: boolean;
  /** The same as `resume: false` (what `--no-checkpoint` gives). */
  noCheckpoint?: boolean;
  /** Not read: the arguments `parseCheckpointFlags` left for the script's own parser. */
  rest?: readonly string[];
}

const { pipeline: _pipeline, ...CHECKPOINT_OPTIONS_BUT_PIPELINE } = CHECKPOINT_OPTIONS;

/** Every option of a Pipeline with its rule: the manager's, without `pipeline`, plus `onSaveError`. */
const PIPELINE_OPTIONS = {
  ...CHECKPOINT_OPTIONS_BUT_PIPELINE,
  onSaveError: rules.oneOf('log', 'throw'),
} as const satisfies Record<keyof PipelineOptions, OptionRule>;

/** The options of `run()` with their rules; `from` and `to` must name one of the steps. */
function runOptionRules(names: readonly string[]): Record<keyof RunOptions, OptionRule> {
  const step = { ...rule(`one of the steps ${names.map((name) => `"${name}"`).join(', ')}`, (value) => typeof value === 'string' && names.includes(value)), values: names };
  const rest = rule('an array of strings', (value) => Array.isArray(value) && value.every((arg) => typeof arg === 'string'));
  return {
    resume: rules.boolean,
    force: rules.boolean,
    from: step,
    to: step,
    dryRun: rules.boolean,
    progress: rules.boolean,
    prompt: PROMPT_RULE,
    resetCheckpoint: rules.boolean,
    noCheckpoint: rules.boolean,
    rest,
  };
}

export function validatePipelineOptions(options: unknown): asserts options is PipelineOptions {
  checkCheckpointOptions(options, PIPELINE_OPTIONS, 'the Pipeline constructor');
  rejectFileStoreOptionsWithStore(options as Record<string, unknown>);
}

/**
 * The run options with the flags' spellings folded in: `resetCheckpoint` is `force`,
 * `noCheckpoint` is `resume: false`.
 */
export function normalizeRunOptions(options: RunOptions): RunOptions {
  const { resetCheckpoint, noCheckpoint, rest: _rest, ...run } = options;
  return {
    ...run,
    ...(resetCheckpoint === true ? { force: true } : {}),
    ...(noCheckpoint === true ? { resume: false } : {}),
  };
}

/** Checks `options` against the pipeline's step names; returns the indexes of the slice. */
export function validateRunOptions(options: unknown, names: readonly string[]): { first: number; last: number } {
  checkOptions(options, runOptionRules(names), 'Pipeline.run');
  const { from, to, resume, noCheckpoint } = options as RunOptions;
  if (noCheckpoint === true && resume === true) {
    throw new CheckpointArgumentError('Expected either `resume: true` or `noCheckpoint: true`, got both');
  }
  const first = from === undefined ? 0 : names.indexOf(from);
  const last = to === undefined ? names.length - 1 : names.indexOf(to);
  if (first > last) {
    throw new CheckpointArgumentError(`Expected \`from\` ("${from}") to come before \`to\` ("${to}") in the step list`);
  }
  return { first, last };
}
