import type { ForEachProgress } from './options.js';

/** Counts what a run did and hands progress to `onProgress`, at most every `intervalMs`. */
export class ProgressTracker {
  completed = 0;
  failed = 0;
  skipped = 0;
  inFlight = 0;
  readonly startedAt = Date.now();
  readonly #step: string;
  readonly #total: number | undefined;
  readonly #onProgress: ((progress: ForEachProgress) => void) | undefined;
  readonly #intervalMs: number;
  #reportedAt = -Infinity;

  constructor(step: string, total: number | undefined, onProgress: ((progress: ForEachProgress) => void) | undefined, intervalMs: number) {
    this.#step = step;
    this.#total = total;
    this.#onProgress = onProgress;
    this.#intervalMs = intervalMs;
  }

  snapshot(now = Date.now()): ForEachProgress {
    const done = this.completed + this.failed + this.skipped;
    const seconds = (now - this.startedAt) / 1000;
    const rate = seconds > 0 ? (this.completed + this.failed) / seconds : 0;
    const total = this.#total;
    const etaMs = total !== undefined && rate > 0 ? Math.max(0, Math.round(((total - done) / rate) * 1000)) : undefined;
    return { step: this.#step, done, total, completed: this.completed, failed: this.failed, skipped: this.skipped, inFlight: this.inFlight, rate, etaMs };
  }

  /** Reports unless the last report was less than `intervalMs` ago. */
  update(): void {
    if (!this.#onProgress) return;
    const now = Date.now();
    if (now - this.#reportedAt < this.#intervalMs) return;
    this.#reportedAt = now;
    this.#onProgress(this.snapshot(now));
  }

  /** The last report of a run, always made. */
  finish(): void {
    if (!this.#onProgress) return;
    this.#reportedAt = Date.now();
    this.#onProgress(this.snapshot(this.#reportedAt));
  }
}
