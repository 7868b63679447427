import type { CheckpointChange, CheckpointDocument } from '../core/model.js';
import { CheckpointLockedError } from '../core/errors.js';
import type { CheckpointStore, LoadedCheckpoint } from './store.js';

/**
 * Keeps the checkpoint in this process's memory: for tests, and for runs that only need to skip
 * work within one process. Open the same instance again to "resume".
 */
export class MemoryStore implements CheckpointStore {
  readonly location: string;
  #document: CheckpointDocument | undefined;
  #changes: CheckpointChange[] = [];
  #open = false;

  constructor(options: { name?: string } = {}) {
    this.location = `memory:${options.name ?? 'checkpoint'}`;
  }

  async open(): Promise<LoadedCheckpoint | undefined> {
    if (this.#open) throw new CheckpointLockedError(this.location, { pid: process.pid });
    this.#open = true;
    if (!this.#document) return undefined;
    return { document: structuredClone(this.#document), changes: this.#changes.slice() };
  }

  async append(change: CheckpointChange): Promise<void> {
    this.#changes.push(structuredClone(change));
  }

  async save(document: CheckpointDocument): Promise<void> {
    this.#document = structuredClone(document);
    this.#changes = [];
  }

  async flush(): Promise<void> {}

  async close(): Promise<void> {
    this.#open = false;
  }

  /** Forgets the checkpoint and, like `close`, releases it (a completed run is over). */
  async remove(): Promise<void> {
    this.#document = undefined;
    this.#changes = [];
    this.#open = false;
  }
}
