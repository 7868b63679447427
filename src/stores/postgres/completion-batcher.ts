import type { JsonValue } from '../../core/json.js';

interface Completion {
  key: string;
  token: string;
  result: JsonValue | undefined;
  resolve(completed: boolean): void;
  reject(error: unknown): void;
}

/**
 * Group commit for completions: while one statement completing items is in flight, the items
 * that finish meanwhile wait and go together in the next one. Each resolves `true` when it was
 * completed, `false` when its lease was lost.
 */
export class CompletionBatcher {
  readonly #send: (entries: { key: string; token: string; result: JsonValue | undefined }[]) => Promise<string[]>;
  #pending: Completion[] = [];
  #active = false;

  constructor(send: (entries: { key: string; token: string; result: JsonValue | undefined }[]) => Promise<string[]>) {
    this.#send = send;
  }

  complete(key: string, token: string, result: JsonValue | undefined): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ key, token, result, resolve, reject });
      if (!this.#active) {
        this.#active = true;
        void this.#run();
      }
    });
  }

  async #run(): Promise<void> {
    try {
      while (this.#pending.length > 0) {
        const batch = this.#pending.splice(0, 1000);
        try {
          const lost = new Set(await this.#send(batch.map(({ key, token, result }) => ({ key, token, result }))));
          for (const entry of batch) entry.resolve(!lost.has(entry.key));
        } catch (error) {
          for (const entry of batch) entry.reject(error);
        }
      }
    } finally {
      this.#active = false;
    }
  }
}
