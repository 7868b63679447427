import type { AbortSignalLike } from '../core/platform-types.js';
import { CheckpointClosedError } from '../core/errors.js';
import type { CheckpointEvents, Emitter, Listener } from '../core/events.js';
import { assertJson, type JsonObject, type JsonValue } from '../core/json.js';
import type { CheckpointChange, ItemChange, StepSummary } from '../core/model.js';
import type { CheckpointState } from '../core/state.js';
import { attemptsAfter, statusAfterFailure } from '../core/item-rules.js';
import { toErrorInfo } from '../core/error-info.js';
import type { CheckpointStore } from '../stores/store.js';
import { decideCompletion, validateCompleteOptions, type CompleteCheckpointOptions, type CompleteResult } from './completion.js';
import type { CheckpointOptions } from './options.js';
import { openParts, type CheckpointParts } from './open-parts.js';
import { assertName, clone, keyFunction } from './arguments.js';
import { contextChange, counterChange, resetStepChange, retryFailedChange, stageChange, summaryChange, totalChange } from './changes.js';
import { CheckpointView } from './checkpoint-view.js';
import { StepHandle } from './step-handle.js';
import { verifyOnOpen } from './verify-completed.js';

const RESOLVED = Promise.resolve();

/**
 * The checkpoint of one run: which items of each step are done, failed or in progress, which
 * stages completed, the run's context and counters. Reads are synchronous and O(1); every mark
 * is handed to the store and resolves once it is as durable as the store's durability promises.
 *
 * @example
 * const cp = await CheckpointManager.open({ path: 'run/checkpoint.json' });
 * for (const doc of cp.pendingItems('enrich', docs)) {
 *   await cp.markItemInProgress('enrich', doc);
 *   try { await enrich(doc); await cp.markItemCompleted('enrich', doc); }
 *   catch (error) { await cp.markItemFailed('enrich', doc, error); }
 * }
 * await cp.complete();
 */
export class CheckpointManager extends CheckpointView {
  readonly #store: CheckpointStore;
  readonly #state: CheckpointState;
  readonly #emitter: Emitter<CheckpointEvents>;
  readonly #options: CheckpointOptions;
  readonly #keyOf: (item: unknown) => string;
  readonly #maxAttempts: number;
  #closed = false;

  private constructor({ store, state, emitter }: CheckpointParts, options: CheckpointOptions) {
    const keyOf = keyFunction(options.itemKey as ((item: unknown) => string) | undefined);
    super(state, keyOf, options.retryFailed !== false);
    this.#keyOf = keyOf;
    this.#store = store;
    this.#state = state;
    this.#emitter = emitter;
    this.#options = options;
    this.#maxAttempts = options.maxAttempts ?? Infinity;
  }

  /** Opens (or creates) a checkpoint. Interrupted items become pending again. */
  static async open(options: CheckpointOptions): Promise<CheckpointManager> {
    const manager = new CheckpointManager(await openParts(options), options);
    if (options.verifyCompleted) {
      const wiring = {
        commit: (change: CheckpointChange) => (change.op === 'item' ? manager.#commitItem(change) : manager.#commit(change)),
        flush: () => manager.#store.flush(),
        warn: (event: CheckpointEvents['warning']) => manager.#emitter.emit('warning', event),
      };
      try {
        await verifyOnOpen(manager.#state, options.verifyCompleted, manager.location, wiring);
      } catch (error) {
        // The open fails: the lock must not stay held by a manager the caller never gets.
        manager.#closed = true;
        await manager.#store.close().catch(() => {});
        throw error;
      }
    }
    return manager;
  }

  /** Where the checkpoint lives (a file path, a table…). */
  get location(): string {
    return this.#store.location;
  }

  get signal(): AbortSignalLike | undefined {
    return this.#options.signal;
  }

  get closed(): boolean {
    return this.#closed;
  }

  // The three marks are on the hot path of every item: plain functions that return the store's
  // promise (an argument error becomes a rejection) cost less than async functions.

  markItemInProgress(step: string, item: unknown): Promise<void> {
    try {
      assertName('step', step);
      const key = this.#keyOf(item);
      const attempts = attemptsAfter(this.#state.steps.get(step), key, 'in_progress');
      return this.#commitItem({ op: 'item', step, key, status: 'in_progress', attempts, at: Date.now() });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  markItemCompleted(step: string, item: unknown, result?: JsonValue): Promise<void> {
    try {
      assertName('step', step);
      const key = this.#keyOf(item);
      const steps = this.#state.steps.get(step);
      if (result === undefined && steps?.completed.has(key)) {
        this.#assertWritable();
        return RESOLVED;
      }
      if (result !== undefined) assertJson(result, 'result');
      const change: ItemChange = { op: 'item', step, key, status: 'completed', attempts: attemptsAfter(steps, key, 'completed'), at: Date.now() };
      if (result !== undefined) change.result = clone(result);
      return this.#commitItem(change);
    } catch (error) {
      return Promise.reject(error);
    }
  }

  markItemFailed(step: string, item: unknown, error: unknown): Promise<void> {
    try {
      assertName('step', step);
      const key = this.#keyOf(item);
      const attempts = attemptsAfter(this.#state.steps.get(step), key, 'failed');
      const status = statusAfterFailure(attempts, this.#maxAttempts);
      return this.#commitItem({ op: 'item', step, key, status, attempts, at: Date.now(), error: toErrorInfo(error) });
    } catch (thrown) {
      return Promise.reject(thrown);
    }
  }

  async markStageCompleted(stage: string, result?: JsonValue): Promise<void> {
    await this.#commit(stageChange(stage, result, Date.now()));
    this.#emitter.emit('stage', { stage, ...(result === undefined ? {} : { result }) });
  }

  async setContext(context: JsonObject): Promise<void> {
    await this.#commit(contextChange(context));
  }

  /** Adds `by` to a named counter (cost, tokens, …) and returns the new value. */
  async increment(counter: string, by = 1): Promise<number> {
    const change = counterChange(counter, this.getCounter(counter), by);
    await this.#commit(change);
    return change.value;
  }

  /** Records a step's status, times and metadata (the Pipeline does this for its steps). */
  async setStepSummary(step: string, summary: StepSummary): Promise<void> {
    await this.#commit(summaryChange(step, summary));
  }

  /**
   * Records how many items a step has in all, so that status shows a percentage and an ETA.
   * `forEach` records the length of an array (or of anything with a numeric `length` or `size`)
   * by itself; call this for your own loops. Nothing is written when it is already `total`.
   * @example await cp.setStepTotal('enrich', documents.length);
   */
  async setStepTotal(step: string, total: number): Promise<void> {
    const change = totalChange(step, total);
    if (this.#state.steps.get(step)?.total === total) return this.#assertWritable();
    await this.#commit(change);
  }

  /** Forgets everything about one step: its items will all be done again. */
  async resetStep(step: string): Promise<void> {
    await this.#commit(resetStepChange(step, Date.now()));
  }

  /** Forgets all steps, stages, context, counters and errors; keeps the run id and config. */
  async resetAll(): Promise<void> {
    await this.#commit({ op: 'resetAll', at: Date.now() });
  }

  /** Makes failed and dead-letter items pending again, with their attempts reset. */
  async retryFailedItems(step?: string): Promise<void> {
    await this.#commit(retryFailedChange(step, Date.now()));
  }

  /** Operations bound to one step, plus `forEach`. */
  step(name: string): StepHandle {
    assertName('step', name);
    return new StepHandle(this, name);
  }

  on<E extends keyof CheckpointEvents>(event: E, listener: Listener<CheckpointEvents[E]>): () => void {
    return this.#emitter.on(event, listener);
  }

  off<E extends keyof CheckpointEvents>(event: E, listener: Listener<CheckpointEvents[E]>): void {
    this.#emitter.off(event, listener);
  }

  /** Makes every acknowledged mark durable now (fsync for file stores). */
  async flush(): Promise<void> {
    this.#assertWritable();
    await this.#store.flush();
  }

  /** Flushes, compacts and releases the lock. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#store.close();
  }

  /**
   * Ends the run: deletes the checkpoint and its backups, or closes it and keeps it when work is
   * left. Failed, in-progress (or interrupted) and dead-letter items keep the checkpoint, with a
   * `warning` event saying what is left and how to go on, so that the next run retries them
   * instead of starting over; `force: true` removes it anyway. With `keepOnComplete` it is always
   * kept (and no warning is given). Calling it twice, or after `close()`, throws
   * CheckpointClosedError.
   *
   * @example
   * const { removed, left } = await cp.complete();
   * if (!removed) console.log(`${left.failed} failed: run again to retry them`);
   * @example
   * await cp.complete({ force: true }); // remove it whatever is left
   */
  async complete(options?: CompleteCheckpointOptions): Promise<CompleteResult> {
    validateCompleteOptions(options);
    this.#assertWritable();
    const policy = { force: options?.force === true, keepOnComplete: this.#options.keepOnComplete === true, retryFailed: this.#options.retryFailed !== false };
    const { remove, left, warning } = decideCompletion(this.#state, this.location, policy);
    if (warning) this.#emitter.emit('warning', { message: warning });
    if (!remove) {
      await this.close();
      return { removed: false, left };
    }
    this.#closed = true;
    await this.#store.remove();
    return { removed: true, left };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  #assertWritable(): void {
    if (this.#closed) throw new CheckpointClosedError(this.location);
  }

  /**
   * Hands a change to the store, then applies it to the state. In this order a change the store
   * refuses at once (a failed write, a lost lock) never counts as done, not even in memory; a
   * store's own work on the state (a compaction) runs later, never between the two.
   */
  async #commit(change: CheckpointChange): Promise<void> {
    this.#assertWritable();
    const written = this.#store.append(change);
    this.#state.apply(change);
    await written;
  }

  /** Hands an item change to the store and applies it; throws (synchronously) if closed or refused. */
  #commitItem(change: ItemChange): Promise<void> {
    this.#assertWritable();
    const written = this.#store.append(change);
    this.#state.apply(change);
    if (this.#emitter.has('item')) {
      const { step, key, status, attempts, error } = change;
      this.#emitter.emit('item', { step, key, status, attempts, ...(error ? { error } : {}) });
    }
    return written;
  }
}
