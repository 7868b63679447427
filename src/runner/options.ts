import type { AbortSignalLike } from '../core/platform-types.js';
import type { JsonValue } from '../core/json.js';

/**
 * What `forEach` needs from a checkpoint. `CheckpointManager` has all of it; the runner depends on
 * this shape only, so that it never imports the manager.
 */
export interface RunnerCheckpoint {
  /** Names the checkpoint in messages (a file path, a table…). */
  readonly location: string;
  /** The checkpoint's default AbortSignal, used when `forEach` is given none. */
  readonly signal: AbortSignalLike | undefined;
  keyOf(item: unknown): string;
  /** Not completed, not a dead letter, and not failed when failed items are not retried. */
  isItemPending(step: string, item: unknown): boolean;
  markItemInProgress(step: string, item: unknown): Promise<void>;
  markItemCompleted(step: string, item: unknown, result?: JsonValue): Promise<void>;
  markItemFailed(step: string, item: unknown, error: unknown): Promise<void>;
  /** Records how many items the step has in all (a no-op when it is already that). */
  setStepTotal(step: string, total: number): Promise<void>;
  flush(): Promise<void>;
}

/** What `fn` receives besides the item. */
export interface ItemContext {
  /**
   * Fires when this attempt must stop: its `timeoutMs` ran out, the `signal` given to `forEach`
   * (or the checkpoint's) aborted, or a SIGINT/SIGTERM shutdown stopped waiting for in-flight
   * items (grace period over, or a second signal). Pass it on to `fetch` and friends.
   */
  signal: AbortSignalLike;
  /** 1 for the first try in this run, 2 for the first retry, … */
  attempt: number;
  /** The step's name. */
  step: string;
}

/** Exponential backoff between retries; each delay is drawn uniformly from 0 to the cap ("full jitter"). */
export interface BackoffOptions {
  /**
   * The cap of the first retry's delay.
   * @default 1000
   */
  initialMs?: number;
  /**
   * How much the cap grows with each retry.
   * @default 2
   */
  factor?: number;
  /**
   * The largest cap.
   * @default 30000
   */
  maxMs?: number;
}

/** A snapshot of how far a `forEach` run is. */
export interface ForEachProgress {
  step: string;
  /** Items finished in this run: completed, failed, or skipped because they were done before. */
  done: number;
  /** How many items the input has, when known (arrays, or the `total` option). */
  total: number | undefined;
  completed: number;
  failed: number;
  skipped: number;
  /** Items being worked on right now. */
  inFlight: number;
  /** Completed and failed items per second in this run (skipped items are not counted). */
  rate: number;
  /** Estimated milliseconds left, when `total` is known and the rate is above zero. */
  etaMs: number | undefined;
}

export interface ForEachFailure {
  key: string;
  /** What `fn` threw on its last attempt. */
  error: unknown;
  /** Attempts made in this run. */
  attempts: number;
}

/** What `forEach` resolves with once every item was handed out and settled. */
export interface ForEachReport {
  /** Items completed in this run. */
  completed: number;
  /** Items that failed in this run after their retries (they stay failed in the checkpoint). */
  failed: number;
  /** Items not run: completed before, dead letters, failed ones under `retryFailed: false`, or duplicates. */
  skipped: number;
  durationMs: number;
  failures: ForEachFailure[];
}

/**
 * Each given option is checked when `forEach` is called: a wrong type, a number out of range or
 * an unknown key (with the nearest known one suggested) rejects with a CheckpointArgumentError.
 * An option whose value is `undefined` counts as not given.
 */
export interface ForEachOptions {
  /**
   * How many items run at the same time. At most this many items are taken from the input
   * before they finish, so an async iterable is never read ahead further.
   * @default 1
   */
  concurrency?: number;
  /**
   * How many times a failing item is tried again in this run before it is marked failed
   * (`Infinity` allowed).
   * @default 0
   */
  retries?: number;
  /** Delays between retries; see {@link BackoffOptions}. */
  backoff?: BackoffOptions;
  /**
   * Whether an error is worth a retry. Interruptions (abort, shutdown) are never retried.
   * @default () => true
   * @example { retryOn: (error) => error.status === 429 || error.status >= 500 }
   */
  retryOn?: (error: unknown) => boolean;
  /**
   * Stop at the first item that fails after its retries: take no new items, let in-flight ones
   * finish (up to `shutdownGraceMs`), flush, and reject with that item's error.
   * @default false
   */
  failFast?: boolean;
  /**
   * Time limit of one attempt. When it runs out, the attempt's signal fires and the attempt
   * fails with a `TimeoutError` (retried like any error). From 1 to 2147483647 ms, the longest
   * a timer can wait.
   */
  timeoutMs?: number;
  /**
   * Aborting it stops the run at once: in-flight attempts get their signal and are left in
   * progress (they run again next time); the call rejects with a CheckpointAbortError.
   * @default the checkpoint's `signal` option
   */
  signal?: AbortSignalLike;
  /**
   * Stop gracefully on SIGINT/SIGTERM while this call runs (see docs/runner.md). `false` leaves
   * signals alone, e.g. when your program has its own shutdown logic and passes `signal`.
   * @default true
   */
  handleSignals?: boolean;
  /**
   * After a stop was asked for (first SIGINT/SIGTERM, or `failFast`), how long in-flight items may
   * take to finish before they are abandoned (left in progress for the next run).
   * @default 10000
   */
  shutdownGraceMs?: number;
  /** The number of items, for progress and ETA when the input is an iterable. */
  total?: number;
  /** Called with progress as items settle (at most every `progressIntervalMs`) and once at the end. */
  onProgress?: (progress: ForEachProgress) => void;
  /**
   * Draw a progress bar on standard error (done/total, rate, ETA, failures) while the items run,
   * alongside any `onProgress`. It is drawn only on a terminal and not when `CI` is set, so it is
   * safe to leave on. For another stream, use `createProgressRenderer` as `onProgress`.
   * @default false
   */
  progress?: boolean;
  /**
   * The shortest time between two `onProgress` calls; 0 calls it for every item.
   * @default 200
   */
  progressIntervalMs?: number;
}
