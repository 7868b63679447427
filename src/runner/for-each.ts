import { setMaxListeners } from 'node:events';
import { CheckpointAbortError, CheckpointArgumentError, describeValue } from '../core/errors.js';
import { AttemptGroup } from './attempt.js';
import { backoffDelay, sleep } from './backoff.js';
import { EXIT_RESUMABLE, markResumable } from './exit-code.js';
import { storableResult } from './item-result.js';
import { ItemSource } from './item-source.js';
import type { ForEachOptions, ForEachReport, ForEachFailure, ItemContext, RunnerCheckpoint } from './options.js';
import { createProgressRenderer } from '../progress/progress-renderer.js';
import { ProgressTracker } from './progress.js';
import { resolveOptions, type ResolvedOptions } from './resolve-options.js';
import { SignalWatcher, type ShutdownSignal } from './signals.js';
import { LOG_PREFIX } from '../core/logger.js';

/** The work done for one item. Its return value is stored with the item when it is small JSON. */
export type ItemFunction<T, R = unknown> = (item: T, context: ItemContext) => R | PromiseLike<R>;

/** Why a run stopped before its input was exhausted. */
type StopReason =
  | { kind: 'signal'; signal: ShutdownSignal }
  | { kind: 'abort'; reason: unknown }
  | { kind: 'failFast'; error: unknown }
  | { kind: 'fatal'; error: unknown };

/**
 * Runs `fn` for every pending item of `step`: skips items the checkpoint has as done, marks each
 * item in progress, then completed or failed, with `concurrency`, retries and graceful shutdown.
 * `CheckpointManager#step(name).forEach(...)` calls this; see docs/runner.md.
 */
export async function runForEach<T, R>(
  checkpoint: RunnerCheckpoint,
  step: string,
  items: Iterable<T> | AsyncIterable<T>,
  fn: ItemFunction<T, R>,
  options?: ForEachOptions,
): Promise<ForEachReport> {
  if (typeof step !== 'string' || step.length === 0) {
    throw new CheckpointArgumentError(`Expected \`step\` to be a non-empty string, got ${describeValue(step)}`);
  }
  if (typeof fn !== 'function') throw new CheckpointArgumentError(`Expected \`fn\` to be a function, got ${describeValue(fn)}`);
  const resolved = resolveOptions(options, checkpoint.signal);
  const source = new ItemSource(items);
  const bar = resolved.progress ? createProgressRenderer() : undefined;
  if (!bar?.enabled) return new ForEachRun(checkpoint, step, source, fn, resolved).run();
  const onProgress = resolved.onProgress;
  resolved.onProgress = (progress) => {
    bar.onProgress(progress);
    onProgress?.(progress);
  };
  // Stopped however the run ends, so the terminal is left with a finished line, not a redraw timer.
  return new ForEachRun(checkpoint, step, source, fn, resolved).run().finally(bar.stop);
}

class ForEachRun<T, R> {
  readonly #checkpoint: RunnerCheckpoint;
  readonly #step: string;
  readonly #source: ItemSource<T>;
  readonly #fn: ItemFunction<T, R>;
  readonly #options: ResolvedOptions;
  readonly #progress: ProgressTracker;
  readonly #failures: ForEachFailure[] = [];
  readonly #inFlight = new Set<string>();
  /** Fires when no new item or attempt may start. */
  readonly #stopping = new AbortController();
  /** In-flight attempts; abandoning them settles them at once and fires their signals. */
  readonly #attempts = new AttemptGroup();
  #reason: StopReason | undefined;
  #graceTimer: NodeJS.Timeout | undefined;

  constructor(checkpoint: RunnerCheckpoint, step: string, source: ItemSource<T>, fn: ItemFunction<T, R>, options: ResolvedOptions) {
    this.#checkpoint = checkpoint;
    this.#step = step;
    this.#source = source;
    this.#fn = fn;
    this.#options = options;
    // Every backoff sleep and stream read listens to it: up to `concurrency` listeners.
    setMaxListeners(0, this.#stopping.signal);
    this.#progress = new ProgressTracker(step, options.total ?? source.size, options.onProgress, options.progressIntervalMs);
  }

  async run(): Promise<ForEachReport> {
    const { signal, handleSignals, concurrency } = this.#options;
    if (signal?.aborted) throw this.#abortError({ kind: 'abort', reason: signal.reason });
    const total = this.#options.total ?? this.#source.size;
    if (total !== undefined) await this.#checkpoint.setStepTotal(this.#step, total);
    const onAbort = (): void => this.#stop({ kind: 'abort', reason: signal?.reason }, 0);
    signal?.addEventListener('abort', onAbort, { once: true });
    const watcher = handleSignals ? new SignalWatcher((name, count) => this.#onSignal(name, count)) : undefined;
    watcher?.start();
    try {
      const workers = Math.min(concurrency, this.#source.size ?? Infinity);
      await Promise.all(Array.from({ length: workers }, () => this.#worker()));
      if (this.#reason) this.#source.close();
    } finally {
      signal?.removeEventListener('abort', onAbort);
      clearTimeout(this.#graceTimer);
      watcher?.stop();
    }
    // Whatever happened, what was acknowledged is made durable before the caller hears of it.
    try {
      await this.#checkpoint.flush();
    } catch (error) {
      // After a store failure the flush fails too; the first error says more.
      if (this.#reason?.kind !== 'fatal') throw error;
    }
    if (this.#reason) throw this.#stopError(this.#reason);
    this.#progress.finish();
    return this.#report();
  }

  /** Takes items until the input is exhausted or the run stops. Never rejects: errors stop the run. */
  async #worker(): Promise<void> {
    try {
      for (let next = await this.#take(); next; next = await this.#take()) {
        await this.#runItem(next.item, next.key);
      }
    } catch (error) {
      this.#fatal(error);
    }
  }

  /** The next item to work on, skipping those the checkpoint does not hand out. */
  async #take(): Promise<{ item: T; key: string } | undefined> {
    while (!this.#stopping.signal.aborted) {
      const next = await this.#source.next(this.#stopping.signal);
      if (!next || this.#stopping.signal.aborted) return undefined;
      const key = this.#checkpoint.keyOf(next.item);
      // An item listed twice is worked on once; the copy seen while the first runs is a skip too.
      if (this.#inFlight.has(key) || !this.#checkpoint.isItemPending(this.#step, next.item)) {
        this.#progress.skipped++;
        this.#progress.update();
        continue;
      }
      // Claimed here, not when the work starts: another worker may take the next item first.
      this.#inFlight.add(key);
      return { item: next.item, key };
    }
    return undefined;
  }

  async #runItem(item: T, key: string): Promise<void> {
    this.#progress.inFlight++;
    try {
      for (let attempt = 1; ; attempt++) {
        await this.#checkpoint.markItemInProgress(this.#step, item);
        let outcome: { ok: true; value: Awaited<R> } | { ok: false; error: unknown };
        try {
          const value = await this.#attempts.run((context) => this.#fn(item, context), attempt, this.#step, this.#options.timeoutMs);
          outcome = { ok: true, value };
        } catch (error) {
          outcome = { ok: false, error };
        }
        if (outcome.ok) {
          await this.#checkpoint.markItemCompleted(this.#step, item, storableResult(outcome.value));
          this.#progress.completed++;
          return;
        }
        // Interrupted, not failed: the item stays in progress and is done again next run.
        if (this.#attempts.abandoned) return;
        const retry = attempt <= this.#options.retries && this.#options.retryOn(outcome.error);
        if (retry && this.#stopping.signal.aborted) return;
        if (retry) {
          const waited = await sleep(backoffDelay(attempt, this.#options.backoff), this.#stopping.signal).then(() => true, () => false);
          if (waited) continue;
          return;
        }
        await this.#checkpoint.markItemFailed(this.#step, item, outcome.error);
        this.#progress.failed++;
        this.#failures.push({ key, error: outcome.error, attempts: attempt });
        if (this.#options.failFast) this.#stop({ kind: 'failFast', error: outcome.error }, this.#options.shutdownGraceMs);
        return;
      }
    } finally {
      this.#inFlight.delete(key);
      this.#progress.inFlight--;
      this.#progress.update();
    }
  }

  #onSignal(signal: ShutdownSignal, count: 1 | 2): void {
    if (count === 2) {
      this.#abandonInFlight(`a second ${signal} arrived`);
      return;
    }
    const graceMs = this.#options.shutdownGraceMs;
    if (!this.#reason && this.#inFlight.size > 0) {
      process.stderr.write(
        `${LOG_PREFIX} ${signal}: step "${this.#step}" takes no new items; waiting up to ${graceMs} ms for ${this.#inFlight.size} in-flight item(s) — send ${signal} again to stop now\n`,
      );
    }
    this.#stop({ kind: 'signal', signal }, graceMs);
  }

  /** No new items; in-flight ones get `graceMs` to finish, then are abandoned. */
  #stop(reason: StopReason, graceMs: number): void {
    if (this.#reason) return;
    this.#reason = reason;
    this.#stopping.abort();
    if (graceMs === 0) this.#abandonInFlight('the run was aborted');
    else this.#graceTimer = setTimeout(() => this.#abandonInFlight(`the grace period of ${graceMs} ms ran out`), graceMs);
  }

  #fatal(error: unknown): void {
    this.#stop({ kind: 'fatal', error }, 0);
  }

  #abandonInFlight(why: string): void {
    if (this.#attempts.abandoned) return;
    clearTimeout(this.#graceTimer);
    this.#attempts.abandon(new CheckpointAbortError(`step "${this.#step}": in-flight items were abandoned because ${why}; they stay in progress and run again next time`));
  }

  #stopError(reason: StopReason): unknown {
    if (reason.kind === 'failFast' || reason.kind === 'fatal') return reason.error;
    return this.#abortError(reason);
  }

  #abortError(reason: Extract<StopReason, { kind: 'signal' | 'abort' }>): CheckpointAbortError {
    const { completed, failed } = this.#progress;
    const why = reason.kind === 'signal' ? `stopped by ${reason.signal}` : 'aborted';
    const done = `${completed} item(s) completed and ${failed} failed in this run`;
    const resume = reason.kind === 'signal' ? `run the same command again to resume (exit code ${EXIT_RESUMABLE})` : 'run again to resume';
    const message = `step "${this.#step}" ${why}: ${done}; progress is saved in ${this.#checkpoint.location} — ${resume}`;
    const error = new CheckpointAbortError(message, reason.kind === 'abort' ? { cause: reason.reason } : undefined);
    if (reason.kind === 'signal') markResumable(error);
    return error;
  }

  #report(): ForEachReport {
    const { completed, failed, skipped, startedAt } = this.#progress;
    return { completed, failed, skipped, durationMs: Date.now() - startedAt, failures: this.#failures };
  }
}
