import type { AbortSignalLike } from '../core/platform-types.js';
import { CheckpointArgumentError, CheckpointClosedError, describeValue } from '../core/errors.js';
import { Emitter, type CheckpointEvents, type Listener } from '../core/events.js';
import { assertJson, isJsonObject, type JsonObject, type JsonValue } from '../core/json.js';
import type { CheckpointChange, ItemChange, ItemStatus, StepSummary } from '../core/model.js';
import type { CheckpointState } from '../core/state.js';
import { attemptsAfter, attemptsOf, isPendingStatus, statusAfterFailure } from '../core/item-rules.js';
import type { CheckpointStore } from '../stores/store.js';
import { toErrorInfo } from '../core/error-info.js';
import { hasItemsLeft, itemsLeft, itemsLeftWarning, validateCompleteOptions, type CompleteCheckpointOptions, type CompleteResult } from './completion.js';
import { loadState, storeForOptions, validateOptions } from './load-state.js';
import type { CheckpointOptions, Logger } from './options.js';
import { failedItemsOf, progressSummary, type FailedItem, type ProgressSummary } from './progress-summary.js';
import { assertName, clone, keyFunction } from './arguments.js';
import { logWarnings } from './log-warnings.js';
import { StepHandle } from './step-handle.js';
import { changesForUnverified, findUnverifiedItems, unverifiedWarning, type VerifyCompletedOption } from './verify-completed.js';

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
export class CheckpointManager {
  readonly #store: CheckpointStore;
  readonly #options: CheckpointOptions;
  readonly #emitter: Emitter<CheckpointEvents>;
  readonly #keyOf: (item: unknown) => string;
  readonly #maxAttempts: number;
  #state!: CheckpointState;
  #closed = false;

  private constructor(store: CheckpointStore, options: CheckpointOptions, logger: Logger) {
    this.#store = store;
    this.#options = options;
    this.#maxAttempts = options.maxAttempts ?? Infinity;
    this.#emitter = new Emitter((error) => logger.error('[checkpointer] an event listener threw', error));
    this.#keyOf = keyFunction(options.itemKey as ((item: unknown) => string) | undefined);
    logWarnings(this.#emitter, logger);
  }

  /** Opens (or creates) a checkpoint. Interrupted items become pending again. */
  static async open(options: CheckpointOptions): Promise<CheckpointManager> {
    if (typeof options !== 'object' || options === null) {
      throw new CheckpointArgumentError(`Expected options to be an object, got ${describeValue(options)}`);
    }
    validateOptions(options);
    const store = storeForOptions(options);
    const manager = new CheckpointManager(store, options, options.logger ?? console);
    // Listeners given up front also hear what happens while opening (`recovered`, `warning`).
    for (const [event, listener] of Object.entries(options.on ?? {})) {
      if (listener) manager.#emitter.on(event as 'warning', listener as Listener<CheckpointEvents['warning']>);
    }
    manager.#state = await loadState(store, options, (state) => ({
      snapshot: () => state().toDocument(),
      emit: (event, payload) => manager.#emitter.emit(event, payload as never),
    }));
    manager.#state.releaseInterrupted(manager.#maxAttempts);
    if (options.verifyCompleted) {
      try {
        await manager.#verifyCompleted(options.verifyCompleted);
      } catch (error) {
        // The open fails: the lock must not stay held by a manager the caller never gets.
        manager.#closed = true;
        await manager.#store.close().catch(() => {});
        throw error;
      }
    }
    return manager;
  }

  /**
   * Makes completed items whose output fails the check pending again. Each is written as a
   * change (and flushed) before `open` resolves, so a crash right after still redoes them; a step
   * a Pipeline recorded as completed is recorded as pending, so that the Pipeline runs it again.
   */
  async #verifyCompleted(option: VerifyCompletedOption): Promise<void> {
    const found = await findUnverifiedItems(this.#state, option, this.location);
    const changes = changesForUnverified(this.#state, found, Date.now());
    if (changes.length === 0) return;
    await Promise.all(changes.map((change) => (change.op === 'item' ? this.#commitItem(change) : this.#commit(change))));
    await this.#store.flush();
    for (const unverified of found) {
      if (unverified.keys.length > 0) this.#emitter.emit('warning', { message: unverifiedWarning(this.location, unverified), unverified });
    }
  }

  /** Where the checkpoint lives (a file path, a table…). */
  get location(): string {
    return this.#store.location;
  }

  get runId(): string {
    return this.#state.metadata.runId;
  }

  get pipeline(): string | undefined {
    return this.#state.metadata.pipeline;
  }

  /**
   * The config saved with the checkpoint: the one given to `open` (or recorded by
   * `onConfigChange: 'accept'`), or a migrated legacy checkpoint's `config_snapshot`;
   * `undefined` when none was saved.
   */
  get config(): JsonValue | undefined {
    return this.#state.metadata.config;
  }

  get signal(): AbortSignalLike | undefined {
    return this.#options.signal;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** The key this checkpoint uses for `item`. */
  keyOf(item: unknown): string {
    return this.#keyOf(item);
  }

  isItemCompleted(step: string, item: unknown): boolean {
    return this.#state.steps.get(step)?.completed.has(this.#keyOf(item)) ?? false;
  }

  getItemStatus(step: string, item: unknown): ItemStatus {
    return this.#state.steps.get(step)?.status(this.#keyOf(item)) ?? 'pending';
  }

  /** Attempts, last error and result of an item, if it has any. */
  getItem(step: string, item: unknown): { status: ItemStatus; attempts: number; error?: { message: string; name?: string }; result?: JsonValue } {
    const key = this.#keyOf(item);
    const steps = this.#state.steps.get(step);
    const record = steps?.items.get(key);
    const status = steps?.status(key) ?? 'pending';
    return record ? { ...record, status } : { status, attempts: attemptsOf(steps, key) };
  }

  /** The failed and dead-letter items of a step, with their attempts and last error. */
  failedItems(step: string): FailedItem[] {
    return failedItemsOf(this.#state, step);
  }

  /** Whether `forEach` / `pendingItems` would hand this item out. */
  isItemPending(step: string, item: unknown): boolean {
    return isPendingStatus(this.getItemStatus(step, item), this.#options.retryFailed !== false);
  }

  /** The items still to do, in input order: not completed, not dead letters, failed ones unless `retryFailed: false`. */
  pendingItems<T>(step: string, items: Iterable<T>): T[] {
    assertName('step', step);
    if (typeof (items as { [Symbol.iterator]?: unknown } | null | undefined)?.[Symbol.iterator] !== 'function') {
      throw new CheckpointArgumentError(`Expected \`items\` to be an array or another iterable, got ${describeValue(items)}`);
    }
    const out: T[] = [];
    for (const item of items) if (this.isItemPending(step, item)) out.push(item);
    return out;
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

  isStageCompleted(stage: string): boolean {
    return this.#state.stages.has(stage);
  }

  getStageResult<T extends JsonValue = JsonValue>(stage: string): T | undefined {
    return this.#state.stages.get(stage)?.result as T | undefined;
  }

  async markStageCompleted(stage: string, result?: JsonValue): Promise<void> {
    assertName('stage', stage);
    if (result !== undefined) assertJson(result, 'result');
    await this.#commit({ op: 'stage', stage, at: Date.now(), ...(result === undefined ? {} : { result: clone(result) }) });
    this.#emitter.emit('stage', { stage, ...(result === undefined ? {} : { result }) });
  }

  /** The run's context (JSON), as last set. */
  get context(): Readonly<JsonObject> {
    return this.#state.context;
  }

  async setContext(context: JsonObject): Promise<void> {
    if (!isJsonObject(context)) throw new CheckpointArgumentError(`Expected \`context\` to be a plain object, got ${describeValue(context)}`);
    assertJson(context, 'context');
    await this.#commit({ op: 'context', context: clone(context) });
  }

  getCounter(name: string): number {
    return this.#state.counters.get(name) ?? 0;
  }

  /** Adds `by` to a named counter (cost, tokens, …) and returns the new value. */
  async increment(counter: string, by = 1): Promise<number> {
    if (typeof by !== 'number' || !Number.isFinite(by)) {
      throw new CheckpointArgumentError(`Expected \`by\` to be a finite number, got ${describeValue(by)}`);
    }
    const value = this.getCounter(counter) + by;
    await this.#commit({ op: 'counter', name: counter, value });
    return value;
  }

  getStepSummary(step: string): StepSummary | undefined {
    return this.#state.steps.get(step)?.summary;
  }

  /** Records a step's status, times and metadata (the Pipeline does this for its steps). */
  async setStepSummary(step: string, summary: StepSummary): Promise<void> {
    assertName('step', step);
    assertJson(summary, 'summary');
    await this.#commit({ op: 'step', step, summary: clone(summary as unknown as JsonObject) as unknown as StepSummary });
  }

  /** How many items a step has in all, as last recorded, or undefined. */
  getStepTotal(step: string): number | undefined {
    return this.#state.steps.get(step)?.total;
  }

  /**
   * Records how many items a step has in all, so that status shows a percentage and an ETA.
   * `forEach` records the length of an array (or of anything with a numeric `length` or `size`)
   * by itself; call this for your own loops. Nothing is written when it is already `total`.
   * @example await cp.setStepTotal('enrich', documents.length);
   */
  async setStepTotal(step: string, total: number): Promise<void> {
    assertName('step', step);
    if (!Number.isSafeInteger(total) || total < 0) {
      throw new CheckpointArgumentError(`Expected \`total\` to be a whole number >= 0, got ${describeValue(total)}`);
    }
    if (this.#state.steps.get(step)?.total === total) return this.#assertWritable();
    await this.#commit({ op: 'total', step, total });
  }

  /** The steps this checkpoint knows, in the order they first appeared. */
  get steps(): string[] {
    return [...this.#state.steps.keys()];
  }

  getProgressSummary(): ProgressSummary {
    return progressSummary(this.#state, Date.now());
  }

  /** The bounded error log, oldest first. */
  get errors(): ReadonlyArray<{ at: string; message: string; name?: string; step?: string; key?: string }> {
    return this.#state.errors;
  }

  /** Forgets everything about one step: its items will all be done again. */
  async resetStep(step: string): Promise<void> {
    assertName('step', step);
    await this.#commit({ op: 'resetStep', step, at: Date.now() });
  }

  /** Forgets all steps, stages, context, counters and errors; keeps the run id and config. */
  async resetAll(): Promise<void> {
    await this.#commit({ op: 'resetAll', at: Date.now() });
  }

  /** Makes failed and dead-letter items pending again, with their attempts reset. */
  async retryFailedItems(step?: string): Promise<void> {
    if (step !== undefined) assertName('step', step);
    await this.#commit(step === undefined ? { op: 'retryFailed', at: Date.now() } : { op: 'retryFailed', step, at: Date.now() });
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
    if (this.#closed) throw new CheckpointClosedError(this.location);
    const left = itemsLeft(this.#state);
    const keepOnComplete = this.#options.keepOnComplete === true;
    if (keepOnComplete || (options?.force !== true && hasItemsLeft(left))) {
      if (!keepOnComplete) this.#emitter.emit('warning', { message: itemsLeftWarning(this.location, left, this.#options.retryFailed !== false) });
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
