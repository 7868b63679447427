import type { JsonObject, JsonValue } from '../core/json.js';
import type { ErrorLogEntry, ItemStatus, StepSummary } from '../core/model.js';
import type { CheckpointState } from '../core/state.js';
import { isPendingStatus } from '../core/item-rules.js';
import { assertName } from './arguments.js';
import { assertIterable } from './changes.js';
import { failedItemsOf, itemInfo, progressSummary, type FailedItem, type ItemInfo, type ProgressSummary } from './progress-summary.js';

/**
 * The reading half of a CheckpointManager: synchronous queries of the state in memory, O(1) per
 * item. CheckpointManager adds the writes, the store and the events.
 */
export class CheckpointView {
  readonly #state: CheckpointState;
  readonly #keyOf: (item: unknown) => string;
  readonly #retryFailed: boolean;

  protected constructor(state: CheckpointState, keyOf: (item: unknown) => string, retryFailed: boolean) {
    this.#state = state;
    this.#keyOf = keyOf;
    this.#retryFailed = retryFailed;
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
  getItem(step: string, item: unknown): ItemInfo {
    return itemInfo(this.#state.steps.get(step), this.#keyOf(item));
  }

  /** The failed and dead-letter items of a step, with their attempts and last error. */
  failedItems(step: string): FailedItem[] {
    return failedItemsOf(this.#state, step);
  }

  /** Whether `forEach` / `pendingItems` would hand this item out. */
  isItemPending(step: string, item: unknown): boolean {
    return isPendingStatus(this.getItemStatus(step, item), this.#retryFailed);
  }

  /** The items still to do, in input order: not completed, not dead letters, failed ones unless `retryFailed: false`. */
  pendingItems<T>(step: string, items: Iterable<T>): T[] {
    assertName('step', step);
    assertIterable(items);
    const out: T[] = [];
    for (const item of items) if (this.isItemPending(step, item)) out.push(item);
    return out;
  }

  isStageCompleted(stage: string): boolean {
    return this.#state.stages.has(stage);
  }

  getStageResult<T extends JsonValue = JsonValue>(stage: string): T | undefined {
    return this.#state.stages.get(stage)?.result as T | undefined;
  }

  /** The run's context (JSON), as last set. */
  get context(): Readonly<JsonObject> {
    return this.#state.context;
  }

  getCounter(name: string): number {
    return this.#state.counters.get(name) ?? 0;
  }

  getStepSummary(step: string): StepSummary | undefined {
    return this.#state.steps.get(step)?.summary;
  }

  /** How many items a step has in all, as last recorded, or undefined. */
  getStepTotal(step: string): number | undefined {
    return this.#state.steps.get(step)?.total;
  }

  /** The steps this checkpoint knows, in the order they first appeared. */
  get steps(): string[] {
    return [...this.#state.steps.keys()];
  }

  getProgressSummary(): ProgressSummary {
    return progressSummary(this.#state, Date.now());
  }

  /** The bounded error log, oldest first. */
  get errors(): readonly ErrorLogEntry[] {
    return this.#state.errors;
  }
}
