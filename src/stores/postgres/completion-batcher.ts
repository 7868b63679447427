import type { JsonValue } from '../../core/json.js';
import { WriteBatcher } from '../write-batcher.js';

interface Completion {
  key: string;
  token: string;
  result: JsonValue | undefined;
}

/**
 * Group commit for completions, through the shared {@link WriteBatcher}: while one statement
 * completing items is in flight, the items that finish meanwhile wait and go together in the
 * next one. Each resolves `true` when it was completed, `false` when its lease was lost. A failed
 * statement fails only its own items: each item's lease is its own.
 */
export class CompletionBatcher {
  readonly #batcher: WriteBatcher<Completion, boolean>;

  constructor(send: (entries: Completion[]) => Promise<string[]>) {
    this.#batcher = new WriteBatcher({
      commit: async (batch) => {
        const lost = new Set(await send(batch));
        return batch.map((entry) => !lost.has(entry.key));
      },
      maxBatch: 1000,
      latch: false,
    });
  }

  complete(key: string, token: string, result: JsonValue | undefined): Promise<boolean> {
    return this.#batcher.add({ key, token, result });
  }
}
