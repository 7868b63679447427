import type { JsonValue } from '../core/json.js';
import type { ItemStatus } from '../core/model.js';
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

  reset(): Promise<void> {
    return this.checkpoint.resetStep(this.name);
  }

  retryFailedItems(): Promise<void> {
    return this.checkpoint.retryFailedItems(this.name);
  }
}
