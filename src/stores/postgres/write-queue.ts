import type { CheckpointChange } from '../../core/model.js';
import { WriteBatcher, type Durability } from '../write-batcher.js';

/** The most changes sent in one transaction. */
const MAX_BATCH = 2000;

/**
 * Sends changes to the database in order, one transaction at a time, through the shared
 * {@link WriteBatcher}: changes appended while a transaction is in flight go together in the next
 * one (group commit); with `batched` durability appends resolve at once and are sent every
 * `batchSize` changes or `batchIntervalMs`. A batch that fails after the connection's retries
 * latches the queue: later changes would be applied without it, so every further append and
 * flush rejects with that error.
 */
export class WriteQueue {
  readonly #batcher: WriteBatcher<CheckpointChange>;

  constructor(write: (changes: CheckpointChange[]) => Promise<void>, options: { durability: Durability; batchSize: number; batchIntervalMs: number }) {
    this.#batcher = new WriteBatcher({
      commit: write,
      maxBatch: MAX_BATCH,
      ...(options.durability === 'batched' ? { batch: { size: options.batchSize, intervalMs: options.batchIntervalMs } } : {}),
    });
  }

  append(change: CheckpointChange): Promise<void> {
    return this.#batcher.add(change);
  }

  /** Resolves once everything appended so far is committed. */
  flush(): Promise<void> {
    return this.#batcher.flush();
  }

  /** Forgets changes not sent yet (the checkpoint is being deleted) and waits for the one in flight. */
  discard(): Promise<void> {
    return this.#batcher.discard();
  }
}
