import type { JsonValue } from '../../core/json.js';
import { WriteBatcher } from '../write-batcher.js';

interface Completion {
  key: string;
  token: string;
  result: JsonValue | undefined;
}

/**
 * How long a completion waits for others before its statement is sent, in milliseconds. Nothing
 * waits on it (the item's slot is already free, its lease kept by the heartbeat), so a few
 * milliseconds let items that finish close together share one statement.
 */
const GATHER_MS = 10;

/**
 * Group commit for completions, through the shared {@link WriteBatcher}: the completions that come
 * within {@link GATHER_MS}, or while one statement completing items is in flight, go together in
 * one. Each resolves `true` when it was completed, `false` when its lease was lost. A failed
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
      gatherMs: GATHER_MS,
      maxBatch: 1000,
      latch: false,
    });
  }

  complete(key: string, token: string, result: JsonValue | undefined): Promise<boolean> {
    return this.#batcher.add({ key, token, result });
  }
}
