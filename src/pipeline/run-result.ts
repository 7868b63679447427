import type { JsonObject } from '../core/json.js';
import type { StepSummary } from '../core/model.js';

/** Why a step runs or is skipped in a run. */
export interface PlannedStep {
  step: string;
  action: 'run' | 'skip';
  /** In words, e.g. "completed in an earlier run", "before `from`", "version changed (1 → 2)". */
  reason: string;
}

/** What `run()` resolves with. */
export interface RunResult<Ctx extends JsonObject> {
  /** The run's id; it stays the same across resumes of one checkpoint. */
  runId: string;
  /** The context after the last step: the initial context plus every step's result. */
  context: Ctx;
  /** Whether an earlier, unfinished run's checkpoint was picked up. */
  resumedFromCheckpoint: boolean;
  /** Steps that ran to completion in this run, in order. */
  completedSteps: string[];
  /** Steps this run did not run: completed earlier, or outside `from`/`to`. */
  skippedSteps: string[];
  /** Every step's summary (status, times, attempts, metadata), in pipeline order. */
  steps: Record<string, StepSummary>;
  /** What this run ran or skipped, and why; with `dryRun`, what it would do. */
  plan: PlannedStep[];
  /** True when `dryRun` was set: nothing ran and the checkpoint was not changed. */
  dryRun: boolean;
  /** Where the checkpoint is, or undefined with `resume: false`. */
  location: string | undefined;
  /** Whether the checkpoint is still there (a failure, a `to`/`from` slice, or `keepOnComplete`). */
  checkpointKept: boolean;
}
