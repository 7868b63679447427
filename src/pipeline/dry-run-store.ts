import type { CheckpointChange, CheckpointDocument } from '../core/model.js';
import { CheckpointState } from '../core/state.js';
import type { CheckpointStore, LoadedCheckpoint, StoreSession } from '../stores/store.js';

/**
 * Reads a checkpoint for `dryRun` and lets go of it at once: the store is opened (taking its
 * lock, so a half-written file is never read), closed again as it was loaded, and every later
 * write is dropped. Whatever the manager decides in memory (a restart after a config change,
 * released items) never reaches the store.
 */
export class DryRunStore implements CheckpointStore {
  readonly #inner: CheckpointStore;
  readonly #maxErrors: number | undefined;

  constructor(inner: CheckpointStore, maxErrors?: number) {
    this.#inner = inner;
    this.#maxErrors = maxErrors;
  }

  get location(): string {
    return this.#inner.location;
  }

  async open(session: StoreSession): Promise<LoadedCheckpoint | undefined> {
    let loaded: { document: CheckpointDocument; changes: CheckpointChange[] } | undefined = undefined;
    // A store that compacts on close writes this snapshot: the checkpoint exactly as it was read.
    const asLoaded: StoreSession = {
      snapshot: () => {
        const state = CheckpointState.fromDocument(structuredClone(loaded!.document), this.#maxErrors);
        for (const change of loaded!.changes) state.apply(structuredClone(change));
        return state.toDocument();
      },
      emit: (event, payload) => session.emit(event, payload),
    };
    const found = await this.#inner.open(asLoaded);
    if (!found) {
      // Opening may have created empty files beside the checkpoint; leave nothing behind.
      await this.#inner.remove();
      return undefined;
    }
    loaded = { document: found.document, changes: [...found.changes] };
    await this.#inner.close();
    return { document: structuredClone(loaded.document), changes: structuredClone(loaded.changes) };
  }

  async append(): Promise<void> {}

  async save(): Promise<void> {}

  async flush(): Promise<void> {}

  async close(): Promise<void> {}

  async remove(): Promise<void> {}
}
