import type { CheckpointChange } from '../../core/model.js';
import type { PostgresDurability } from './options.js';

interface Pending {
  change: CheckpointChange;
  resolve?: () => void;
  reject?: (error: unknown) => void;
}

/** The most changes sent in one transaction. */
const MAX_BATCH = 2000;
const RESOLVED = Promise.resolve();

/**
 * Sends changes to the database in order, one transaction at a time. Changes appended while a
 * transaction is in flight go together in the next one (group commit), so concurrent marks cost
 * one round trip set, not one each. With `batched` durability appends resolve at once and are
 * sent every `batchSize` changes or `batchIntervalMs`.
 *
 * A batch that fails after the connection's retries breaks the queue: later changes would be
 * applied without it, so every further append and flush rejects with that error.
 */
export class WriteQueue {
  readonly #write: (changes: CheckpointChange[]) => Promise<void>;
  readonly #durability: PostgresDurability;
  readonly #batchSize: number;
  readonly #batchIntervalMs: number;
  #pending: Pending[] = [];
  #running: Promise<void> = RESOLVED;
  /** Set and cleared synchronously, so that a change appended as a run ends is never left behind. */
  #active = false;
  #failure: { error: unknown } | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(write: (changes: CheckpointChange[]) => Promise<void>, options: { durability: PostgresDurability; batchSize: number; batchIntervalMs: number }) {
    this.#write = write;
    this.#durability = options.durability;
    this.#batchSize = options.batchSize;
    this.#batchIntervalMs = options.batchIntervalMs;
  }

  append(change: CheckpointChange): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure.error);
    if (this.#durability === 'batched') {
      this.#pending.push({ change });
      if (this.#pending.length >= this.#batchSize) return this.#drain();
      this.#timer ??= setTimeout(() => {
        this.#timer = undefined;
        // A failure is kept in #failure and reported by the next append or flush.
        this.#drain().catch(() => {});
      }, this.#batchIntervalMs).unref();
      return RESOLVED;
    }
    return new Promise((resolve, reject) => {
      this.#pending.push({ change, resolve, reject });
      void this.#drain().catch(() => {});
    });
  }

  /** Resolves once everything appended so far is committed. */
  async flush(): Promise<void> {
    await this.#drain();
    if (this.#failure) throw this.#failure.error;
  }

  /** Forgets changes not sent yet (the checkpoint is being deleted) and waits for the one in flight. */
  async discard(): Promise<void> {
    const dropped = this.#pending;
    this.#pending = [];
    for (const entry of dropped) entry.resolve?.();
    await this.#running.catch(() => {});
  }

  #drain(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    if (!this.#active) {
      this.#active = true;
      this.#running = this.#run();
    }
    return this.#running;
  }

  /**
   * Sends batches until nothing is pending. The emptiness check and the clearing of `#active`
   * happen in one synchronous step: a change appended by a caller woken by the last batch either
   * is seen by the check or finds `#active` cleared and starts the next run — never neither.
   */
  async #run(): Promise<void> {
    try {
      for (;;) {
        if (this.#pending.length === 0) {
          this.#active = false;
          if (this.#failure) throw this.#failure.error;
          return;
        }
        if (this.#failure) {
          const failed = this.#pending;
          this.#pending = [];
          for (const entry of failed) entry.reject?.(this.#failure.error);
          continue;
        }
        const batch = this.#pending.splice(0, MAX_BATCH);
        try {
          await this.#write(batch.map((entry) => entry.change));
        } catch (error) {
          this.#failure = { error };
          for (const entry of batch) entry.reject?.(error);
          continue;
        }
        for (const entry of batch) entry.resolve?.();
      }
    } catch (error) {
      this.#active = false;
      throw error;
    }
  }
}
