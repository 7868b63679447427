import { CheckpointClosedError, CheckpointLockLostError } from '../core/errors.js';
import type { CheckpointChange, CheckpointDocument } from '../core/model.js';
import type { CheckpointStore, LoadedCheckpoint, StoreSession } from '../stores/store.js';

/** Which store call failed. */
export type SaveOperation = 'append' | 'save' | 'flush' | 'close' | 'remove';

/**
 * Wraps a store so that a failed write is reported instead of thrown (`onSaveError: 'log'`).
 * The state in memory is already up to date when a write fails, so the run can go on; the
 * next successful write (a compaction writes the whole state) catches the checkpoint up.
 * Opening is not wrapped: a checkpoint that cannot be read must not silently start over. A lost
 * lock or a closed store is not tolerated either: another process may be writing.
 */
export class SaveTolerantStore implements CheckpointStore {
  readonly #inner: CheckpointStore;
  readonly #onFailure: (error: unknown, operation: SaveOperation) => void;

  constructor(inner: CheckpointStore, onFailure: (error: unknown, operation: SaveOperation) => void) {
    this.#inner = inner;
    this.#onFailure = onFailure;
  }

  get location(): string {
    return this.#inner.location;
  }

  open(session: StoreSession): Promise<LoadedCheckpoint | undefined> {
    return this.#inner.open(session);
  }

  append(change: CheckpointChange): Promise<void> {
    return this.#tolerate('append', () => this.#inner.append(change));
  }

  save(document: CheckpointDocument): Promise<void> {
    return this.#tolerate('save', () => this.#inner.save(document));
  }

  flush(): Promise<void> {
    return this.#tolerate('flush', () => this.#inner.flush());
  }

  close(): Promise<void> {
    return this.#tolerate('close', () => this.#inner.close());
  }

  remove(): Promise<void> {
    return this.#tolerate('remove', () => this.#inner.remove());
  }

  async #tolerate(operation: SaveOperation, write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (error) {
      if (error instanceof CheckpointLockLostError || error instanceof CheckpointClosedError) throw error;
      this.#onFailure(error, operation);
    }
  }
}
