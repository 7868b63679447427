import { CheckpointAbortError, CheckpointArgumentError, PipelineStepError, describeValue } from '../core/errors.js';
import { Emitter, type CheckpointEvents, type Listener } from '../core/events.js';
import { assertJson, findNonJson, isJsonObject, type JsonObject } from '../core/json.js';
import type { StepSummary } from '../core/model.js';
import type { CheckpointManager } from '../manager/checkpoint-manager.js';
import type { Logger } from '../manager/options.js';
import { prefixedLogger } from '../core/logger.js';
import { openCheckpoint } from './open-checkpoint.js';
import type { PipelineEvents } from './pipeline-events.js';
import { PipelineStep } from './pipeline-step.js';
import { planSteps, type StepPlan } from './plan.js';
import { normalizeRunOptions, validatePipelineOptions, validateRunOptions, type PipelineOptions, type RunOptions } from './run-options.js';
import type { RunResult } from './run-result.js';
import type { SaveOperation } from './save-tolerant-store.js';
import { assertStepMetadata, mergeStepResult, restoreContext } from './step-context.js';
import { validateSteps, type StepDefinition } from './step-definition.js';
import { checkStepList } from './step-list.js';

const FORWARDED = ['item', 'stage', 'flush', 'recovered', 'warning'] as const satisfies readonly (keyof CheckpointEvents)[];
const iso = (ms: number): string => new Date(ms).toISOString();

/** The parts of a definition a step summary keeps. */
function describeStep(step: StepDefinition<JsonObject>): Pick<StepSummary, 'description' | 'group' | 'version'> {
  return {
    ...(step.description === undefined ? {} : { description: step.description }),
    ...(step.group === undefined ? {} : { group: step.group }),
    ...(step.version === undefined ? {} : { version: step.version }),
  };
}

/**
 * A sequence of named steps whose progress survives crashes: subclass it, list the steps, call
 * `run()`. Completed steps are skipped on the next run (their results restored into the
 * context); a step resumes half-way through its items through its `step` handle; the checkpoint
 * is deleted when every step has completed and kept when one fails.
 *
 * @example
 * type Ctx = { videoPath: string; frames?: number };
 * class TrainPipeline extends Pipeline<Ctx> {
 *   readonly name = 'train_pipeline';
 *   steps(): StepDefinition<Ctx>[] {
 *     return [{ name: 'download', run: async (ctx) => ({ frames: 10 }) }];
 *   }
 * }
 * await new TrainPipeline({ path: 'runs/x/.checkpoint.json' }).run({ videoPath: 'a.mp4' });
 */
export abstract class Pipeline<Ctx extends JsonObject> {
  /** Names the pipeline in the checkpoint; a checkpoint of another pipeline is refused. */
  abstract readonly name: string;
  /** The steps, in the order they run. Called once per `run()`. */
  abstract steps(): StepDefinition<Ctx>[];

  readonly #options: PipelineOptions;
  readonly #logger: Required<Logger>;
  readonly #emitter: Emitter<PipelineEvents>;
  #running = false;
  #currentStep: string | undefined;
  #stepSaveFailures = 0;

  constructor(options: PipelineOptions) {
    validatePipelineOptions(options);
    this.#options = { ...options };
    this.#logger = prefixedLogger(options.logger ?? console);
    this.#emitter = new Emitter((error) => this.#logger.error('a pipeline event listener threw', error));
  }

  on<E extends keyof PipelineEvents>(event: E, listener: Listener<PipelineEvents[E]>): () => void {
    return this.#emitter.on(event, listener);
  }

  off<E extends keyof PipelineEvents>(event: E, listener: Listener<PipelineEvents[E]>): void {
    this.#emitter.off(event, listener);
  }

  /** Called before a step runs. Throwing fails the step. */
  protected onStepStart(_step: StepDefinition<Ctx>, _context: Readonly<Ctx>): void | Promise<void> {}

  /** Called after a step completed and was saved. Throwing fails the run; the step stays completed. */
  protected onStepEnd(_step: StepDefinition<Ctx>, _summary: StepSummary, _context: Readonly<Ctx>): void | Promise<void> {}

  /** Called when a step failed, before `run()` rejects with `error`. */
  protected onError(_error: PipelineStepError, _context: Readonly<Ctx>): void | Promise<void> {}

  /**
   * Runs the steps that are not done yet, starting from `context` (on resume, the saved context
   * is laid over it). Rejects with PipelineStepError when a step fails; the checkpoint is kept.
   */
  async run(context?: Ctx, options: RunOptions = {}): Promise<RunResult<Ctx>> {
    const name: unknown = this.name;
    if (typeof name !== 'string' || name.length === 0) {
      throw new CheckpointArgumentError(`Expected the pipeline's \`name\` to be a non-empty string, got ${describeValue(name)}`);
    }
    const steps: unknown = this.steps();
    validateSteps<Ctx>(name, steps);
    const slice = validateRunOptions(options, steps.map((step) => step.name));
    const initial: unknown = context ?? {};
    if (!isJsonObject(initial)) throw new CheckpointArgumentError(`Expected \`context\` to be a plain object, got ${describeValue(initial)}`);
    assertJson(initial, 'context');
    if (this.#running) throw new CheckpointArgumentError(`pipeline "${name}" is already running — await run() before calling it again`);
    this.#running = true;
    try {
      return await this.#run(name, steps, initial, slice, normalizeRunOptions(options));
    } finally {
      this.#running = false;
      this.#currentStep = undefined;
    }
  }

  async #run(name: string, steps: StepDefinition<Ctx>[], initial: JsonObject, slice: { first: number; last: number }, options: RunOptions): Promise<RunResult<Ctx>> {
    const opened = await openCheckpoint(name, this.#options, options, (error, operation) => this.#saveFailed(error, operation));
    const checkpoint = opened.checkpoint;
    const stopForwarding = this.#forwardEvents(checkpoint);
    try {
      const forgotten = checkStepList(checkpoint, name, steps.map((step) => step.name));
      const summaries = new Map<string, StepSummary>();
      for (const step of steps) {
        const summary = checkpoint.getStepSummary(step.name);
        if (summary) summaries.set(step.name, summary);
      }
      const withFailedItems = new Set(
        this.#options.retryFailed === false ? [] : steps.filter((step) => checkpoint.failedItems(step.name).some((item) => item.status === 'failed')).map((step) => step.name),
      );
      const plan = planSteps(steps, summaries, slice, withFailedItems);
      const resumed = opened.persistent && (checkpoint.steps.length > 0 || Object.keys(checkpoint.context).length > 0);
      const restoredFrom = plan.filter((entry) => entry.action === 'skip' && entry.completedBefore).map((entry) => summaries.get(entry.step)!);
      const context = restoreContext(initial, restoredFrom, checkpoint.context) as Ctx;
      const done = plan.filter((entry) => entry.completedBefore).length;
      if (resumed) this.#logger.info(`${name}: resuming run ${checkpoint.runId} from ${checkpoint.location} (${done} of ${steps.length} steps completed)`);
      const result = (completedSteps: string[], kept: boolean): RunResult<Ctx> => ({
        runId: checkpoint.runId,
        context,
        resumedFromCheckpoint: resumed,
        completedSteps,
        skippedSteps: plan.filter((entry) => entry.action === 'skip').map((entry) => entry.step),
        steps: Object.fromEntries(steps.map((step) => [step.name, structuredClone(checkpoint.getStepSummary(step.name) ?? { status: 'pending' })])),
        plan: plan.map(({ step, action, reason }) => ({ step, action, reason })),
        dryRun: options.dryRun === true,
        location: opened.persistent ? checkpoint.location : undefined,
        checkpointKept: kept,
      });
      if (options.dryRun) {
        await checkpoint.close();
        return result([], resumed);
      }
      for (const step of forgotten) await checkpoint.resetStep(step);
      await this.#prepare(name, checkpoint, steps, plan);
      const completedSteps: string[] = [];
      for (const [index, entry] of plan.entries()) {
        if (entry.action === 'skip') {
          this.#logger.info(`${name}: skipping step "${entry.step}" (${entry.reason})`);
          this.#emitter.emit('stepSkip', { step: entry.step, reason: entry.reason });
          continue;
        }
        const signal = checkpoint.signal;
        if (signal?.aborted) {
          throw new CheckpointAbortError(`${name}: aborted before step "${entry.step}" — progress is saved; run again to resume`, { cause: signal.reason });
        }
        await this.#runStep(checkpoint, steps[index]!, context, index, steps.length, options.progress === true);
        completedSteps.push(entry.step);
      }
      const allCompleted = steps.every((step) => checkpoint.getStepSummary(step.name)?.status === 'completed');
      // Failed items still to retry are progress too: keep the checkpoint so the next run retries them.
      const withFailures = this.#options.retryFailed === false ? [] : steps.filter((step) => checkpoint.failedItems(step.name).some((item) => item.status === 'failed'));
      if (allCompleted && withFailures.length > 0) {
        this.#logger.warn(`${name}: steps ${withFailures.map((step) => `"${step.name}"`).join(', ')} completed with failed items; the checkpoint is kept so that the next run retries them`);
      }
      const finished = allCompleted && withFailures.length === 0;
      const output = result(completedSteps, opened.persistent);
      // The pipeline has decided above (and warned about failed items to retry): dead letters, and
      // failed items under `retryFailed: false`, do not keep its checkpoint.
      const removed = finished && (await checkpoint.complete({ force: true })).removed;
      if (!finished) await checkpoint.close();
      output.checkpointKept = opened.persistent && !removed;
      return output;
    } catch (error) {
      await checkpoint.close().catch((closeError: unknown) => this.#logger.warn('could not close the checkpoint after a failure', closeError));
      throw error;
    } finally {
      stopForwarding();
    }
  }

  /** Discards what the plan says is stale and gives every step a summary, so the step list is saved. */
  async #prepare(name: string, checkpoint: CheckpointManager, steps: StepDefinition<Ctx>[], plan: StepPlan[]): Promise<void> {
    for (const [index, entry] of plan.entries()) {
      const step = steps[index]!;
      if (entry.discard) {
        const items = checkpoint.getProgressSummary().steps[step.name]?.completed ?? 0;
        this.#logger.info(`${name}: step "${step.name}": ${entry.discard} — discarding its ${items} completed item(s) and its memoised result; it runs again`);
        await checkpoint.resetStep(step.name);
      }
      const saved = checkpoint.getStepSummary(step.name);
      if (!saved || (saved.status === 'pending' && saved.version !== step.version)) {
        await checkpoint.setStepSummary(step.name, { status: 'pending', ...describeStep(step) });
      }
    }
  }

  async #runStep(checkpoint: CheckpointManager, step: StepDefinition<Ctx>, context: Ctx, index: number, total: number, progress: boolean): Promise<void> {
    const name = step.name;
    const attempt = (checkpoint.getStepSummary(name)?.attempts ?? 0) + 1;
    const started = Date.now();
    const base = { ...describeStep(step), attempts: attempt, startedAt: iso(started) };
    const handle = new PipelineStep(checkpoint, name, {}, progress ? { progress } : {});
    this.#currentStep = name;
    this.#stepSaveFailures = 0;
    let summary: StepSummary;
    try {
      try {
        await checkpoint.setStepSummary(name, { ...base, status: 'running' });
        this.#emitter.emit('stepStart', { step: name, index, total, attempt });
        this.#logger.debug(`step "${name}" started (attempt ${attempt})`);
        await this.onStepStart(step, context);
        const returned: unknown = await step.run(context, handle);
        const result = mergeStepResult(name, context, returned);
        assertStepMetadata(name, handle.metadata);
        const ended = Date.now();
        summary = { ...base, status: 'completed', endedAt: iso(ended), durationMs: ended - started, ...metadataOf(handle), ...(result ? { result } : {}) };
        // The context first, the summary last: a crash in between re-runs the step, never skips it.
        await checkpoint.setContext(context);
        await checkpoint.setStepSummary(name, summary);
      } catch (error) {
        throw await this.#stepFailed(checkpoint, step, base, started, handle, context, error);
      }
    } finally {
      this.#reportSaveFailures(name);
      this.#currentStep = undefined;
    }
    this.#logger.debug(`step "${name}" completed in ${summary.durationMs} ms`);
    this.#emitter.emit('stepEnd', { step: name, status: 'completed', durationMs: summary.durationMs ?? 0, summary });
    try {
      await this.onStepEnd(step, summary, context);
    } catch (error) {
      const failure = new PipelineStepError(name, error);
      await this.#callOnError(failure, context);
      throw failure;
    }
  }

  /** Records the failure (best effort: the step's error matters more than a failed save). */
  async #stepFailed(checkpoint: CheckpointManager, step: StepDefinition<Ctx>, base: Partial<StepSummary>, started: number, handle: PipelineStep, context: Ctx, error: unknown): Promise<PipelineStepError> {
    const failure = error instanceof PipelineStepError && error.step === step.name ? error : new PipelineStepError(step.name, error);
    const ended = Date.now();
    const summary: StepSummary = { ...base, status: 'failed', endedAt: iso(ended), durationMs: ended - started, ...metadataOf(handle) };
    try {
      await checkpoint.setStepSummary(step.name, summary);
    } catch (saveError) {
      this.#logger.warn(`could not record that step "${step.name}" failed`, saveError);
    }
    this.#emitter.emit('stepEnd', { step: step.name, status: 'failed', durationMs: summary.durationMs ?? 0, summary, error: failure });
    await this.#callOnError(failure, context);
    return failure;
  }

  async #callOnError(error: PipelineStepError, context: Ctx): Promise<void> {
    try {
      await this.onError(error, context);
    } catch (hookError) {
      this.#logger.error('the onError hook threw', hookError);
    }
  }

  #saveFailed(error: unknown, operation: SaveOperation): void {
    const step = this.#currentStep;
    this.#emitter.emit('saveError', { operation, error, ...(step === undefined ? {} : { step }) });
    // One line per step is enough to notice; a full disk would otherwise log every item.
    if (step !== undefined && ++this.#stepSaveFailures > 1) return;
    const message = error instanceof Error ? error.message : String(error);
    this.#logger.warn(
      `could not save the checkpoint${step === undefined ? '' : ` during step "${step}"`} (${operation}): ${message} — ` +
        "the run goes on; after a crash, work since the last good save is done again (pass { onSaveError: 'throw' } to stop instead)",
    );
  }

  #reportSaveFailures(step: string): void {
    if (this.#stepSaveFailures > 1) this.#logger.warn(`${this.#stepSaveFailures - 1} more checkpoint saves failed during step "${step}"`);
    this.#stepSaveFailures = 0;
  }

  /** Passes the checkpoint's events on to listeners registered on the pipeline. */
  #forwardEvents(checkpoint: CheckpointManager): () => void {
    const forward = <E extends keyof CheckpointEvents>(event: E): (() => void) =>
      checkpoint.on(event, (payload: CheckpointEvents[E]) => this.#emitter.emit(event, payload as PipelineEvents[E]));
    const stops = FORWARDED.filter((event) => this.#emitter.has(event)).map(forward);
    return () => stops.forEach((stop) => stop());
  }


}

function metadataOf(handle: PipelineStep): { metadata?: JsonObject } {
  const metadata = handle.metadata;
  if (Object.keys(metadata).length === 0 || findNonJson(metadata, 'metadata')) return {};
  return { metadata: structuredClone(metadata) };
}
