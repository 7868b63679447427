import type { JsonValue } from '../core/json.js';
import type { ItemStatus } from '../core/model.js';
import { runForEach, type ItemFunction } from '../runner/for-each.js';
import type { ForEachOptions, ForEachReport } from '../runner/options.js';
import type { CheckpointManager } from './checkpoint-manager.js';

/** The item calls of a CheckpointManager, bound to one step. */
export class StepHandle {
  readonly name: string;
  readonly checkpoint: CheckpointManager;

  constructor(checkpoint: CheckpointManager, name: string) {
    this.checkpoint = checkpoint;
    this.name = name;
  }

  isItemCompleted(item: unknown): boolean {
    return this.checkpoint.isItemCompleted(this.name, item);
  }

  getItemStatus(item: unknown): ItemStatus {
    return this.checkpoint.getItemStatus(this.name, item);
  }

  pendingItems<T>(items: Iterable<T>): T[] {
    return this.checkpoint.pendingItems(this.name, items);
  }

  markItemInProgress(item: unknown): Promise<void> {
    return this.checkpoint.markItemInProgress(this.name, item);
  }

  markItemCompleted(item: unknown, result?: JsonValue): Promise<void> {
    return this.checkpoint.markItemCompleted(this.name, item, result);
  }

  markItemFailed(item: unknown, error: unknown): Promise<void> {
    return this.checkpoint.markItemFailed(this.name, item, error);
  }

  /**
   * Runs `fn` for every item not done yet — skipping completed ones, marking each in progress,
   * then completed (with `fn`'s return value when it is small JSON) or failed — with
   * `concurrency`, `retries`, timeouts and a graceful stop on SIGINT/SIGTERM. See docs/runner.md.
   *
   * @example
   * const report = await cp.step('summarise').forEach(docs, async (doc, { signal }) => {
   *   const summary = await llm.summarise(doc.text, { signal });
   *   await cp.increment('cost', summary.cost);
   * }, { concurrency: 8, retries: 3 });
   */
  forEach<T, R>(items: Iterable<T> | AsyncIterable<T>, fn: ItemFunction<T, R>, options?: ForEachOptions): Promise<ForEachReport> {
    return runForEach(this.checkpoint, this.name, items, fn, options);
  }

  /** Records how many items the step has in all (see `CheckpointManager#setStepTotal`). */
  setTotal(total: number): Promise<void> {
    return this.checkpoint.setStepTotal(this.name, total);
  }

  reset(): Promise<void> {
    return this.checkpoint.resetStep(this.name);
  }

  retryFailedItems(): Promise<void> {
    return this.checkpoint.retryFailedItems(this.name);
  }
}
