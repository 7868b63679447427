/**
 * What an acknowledged (awaited) mark survives. The words mean the same for every store; each
 * store says what "the machine that holds the data" is for it (the disk under a file, the
 * database server) and picks its own default.
 * - `full`: a power cut or crash of the machine that holds the data — a mark resolves once it is
 *   synced there (a file: fsync; PostgreSQL: committed with the server's `synchronous_commit`).
 *   Concurrent marks share one sync (group commit).
 * - `normal`: a crash or `kill -9` of this process — a mark resolves once it has left the process
 *   (a file: written to the operating system, fsynced every `fsyncIntervalMs`; PostgreSQL:
 *   committed with `synchronous_commit = off`). A crash of the machine that holds the data may
 *   lose the last moments of marks.
 * - `batched`: marks stay in this process and go out together every `batchSize` marks or
 *   `batchIntervalMs`; a crash of the process loses at most one batch.
 */
export type Durability = 'full' | 'normal' | 'batched';

/** Every {@link Durability}, for the stores' option rules. */
export const DURABILITIES = ['full', 'normal', 'batched'] as const satisfies readonly Durability[];

export interface WriteBatcherOptions<T, R> {
  /**
   * Commits `batch` (in order) as one: the store's "write and sync" or "run a transaction". May
   * return one result per entry, in order. A commit that throws fails every entry of the batch.
   */
  commit(batch: T[]): Promise<readonly R[] | void> | readonly R[] | void;
  /**
   * Given: `batched` — an add resolves at once and entries are committed every `size` adds or
   * `intervalMs` after the first waiting one. Not given: an add resolves once the commit holding
   * it has finished, and adds made while a commit runs share the next one (group commit).
   */
  batch?: { size: number; intervalMs: number };
  /**
   * With `batch`: the commit is synchronous, and a batch is committed within the add that fills
   * it, which throws if it fails — so that its caller can refuse the change before applying it.
   */
  synchronous?: boolean;
  /**
   * Without `batch`: how long, in milliseconds, the first entry waits for others before a commit
   * starts (later ones gather while the commit before them runs). For entries nobody is held up
   * by, such as completions whose worker slot is already free. @default 0 (the same tick only)
   */
  gatherMs?: number;
  /** The most entries one commit takes. @default Infinity */
  maxBatch?: number;
  /**
   * Whether a failed commit refuses everything after it: every later add and flush rejects with
   * its error. For changes that must apply in order, where a later one without the failed one
   * would be wrong. `false` leaves latching to the store ({@link WriteBatcher.fail}). @default true
   */
  latch?: boolean;
  /** Told about a failed commit that no caller waits for (a `batched` commit made by the timer). */
  onUnwatchedFailure?(error: unknown): void;
}

interface Waiting<T, R> {
  entry: T;
  resolve?: (result: R) => void;
  reject?: (error: unknown) => void;
}

const RESOLVED = Promise.resolve();

/**
 * Collects changes and commits them together, one commit at a time, in order: the batching
 * policy (group commit, batch size and interval, the failure latch) shared by every store, which
 * supplies only how one batch is committed.
 */
export class WriteBatcher<T, R = void> {
  readonly #options: WriteBatcherOptions<T, R>;
  readonly #maxBatch: number;
  #pending: Waiting<T, R>[] = [];
  #running: Promise<void> = RESOLVED;
  /** Set and cleared synchronously, so that an entry added as a run ends is never left behind. */
  #active = false;
  #failure: { error: unknown } | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: WriteBatcherOptions<T, R>) {
    this.#options = options;
    this.#maxBatch = options.maxBatch ?? Number.POSITIVE_INFINITY;
  }

  /** The error that latched this batcher, if one did. */
  get failure(): unknown {
    return this.#failure?.error;
  }

  /** Latches `error` (the first one stays): every later add and flush rejects with it. */
  fail(error: unknown): void {
    this.#failure ??= { error };
  }

  /** How many entries wait for a commit. */
  get pending(): number {
    return this.#pending.length;
  }

  /**
   * Adds an entry. With `batch`, resolves at once unless this add fills a batch (then with its
   * commit); otherwise once the commit that holds it has finished, with its result.
   */
  add(entry: T): Promise<R> {
    if (this.#failure) return Promise.reject(this.#failure.error);
    const batch = this.#options.batch;
    if (!batch) {
      return new Promise((resolve, reject) => {
        this.#pending.push({ entry, resolve, reject });
        this.#drain().catch(() => {});
      });
    }
    this.#pending.push({ entry });
    if (this.#pending.length >= batch.size) {
      if (!this.#options.synchronous) return this.#drain() as Promise<R>;
      this.#commitNow();
      return RESOLVED as Promise<R>;
    }
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      this.#drain().catch((error: unknown) => this.#options.onUnwatchedFailure?.(error));
    }, batch.intervalMs).unref();
    return RESOLVED as Promise<R>;
  }

  /** Commits everything added so far; rejects with the latched failure, if any. */
  async flush(): Promise<void> {
    await this.#drain();
    if (this.#failure) throw this.#failure.error;
  }

  /** Resolves when no commit is running or waiting. Never rejects. */
  idle(): Promise<void> {
    return this.#running.catch(() => {});
  }

  /** Forgets entries not committed yet (the checkpoint is being deleted) and waits for the commit in flight. */
  async discard(): Promise<void> {
    this.#stopTimer();
    const dropped = this.#pending;
    this.#pending = [];
    for (const waiting of dropped) waiting.resolve?.(undefined as R);
    await this.idle();
  }

  /** A synchronous commit of everything waiting; its failure is latched and thrown. */
  #commitNow(): void {
    this.#stopTimer();
    const batch = this.#pending.splice(0);
    try {
      void this.#options.commit(batch.map((waiting) => waiting.entry));
    } catch (error) {
      if (this.#options.latch !== false) this.fail(error);
      throw error;
    }
  }

  #stopTimer(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  #drain(): Promise<void> {
    this.#stopTimer();
    if (!this.#active) {
      this.#active = true;
      this.#running = this.#run();
    }
    return this.#running;
  }

  /**
   * Commits batches until nothing waits. The emptiness check and the clearing of `#active`
   * happen in one synchronous step: an entry added by a caller woken by the last batch either is
   * seen by the check or finds `#active` cleared and starts the next run — never neither.
   */
  async #run(): Promise<void> {
    try {
      // Group commit: let the adds made in this same tick (or within `gatherMs`) join the first commit.
      if (!this.#options.batch) await (this.#options.gatherMs ? new Promise((resolve) => setTimeout(resolve, this.#options.gatherMs)) : null);
      for (;;) {
        if (this.#pending.length === 0) {
          this.#active = false;
          if (this.#failure) throw this.#failure.error;
          return;
        }
        if (this.#failure) {
          for (const waiting of this.#pending.splice(0)) waiting.reject?.(this.#failure.error);
          continue;
        }
        const batch = this.#pending.splice(0, this.#maxBatch);
        let results: readonly R[] | void;
        try {
          results = await this.#options.commit(batch.map((waiting) => waiting.entry));
        } catch (error) {
          // Latched, the entries still waiting are refused on the next turn of the loop.
          if (this.#options.latch !== false) this.fail(error);
          for (const waiting of batch) waiting.reject?.(error);
          continue;
        }
        batch.forEach((waiting, i) => waiting.resolve?.(results ? results[i]! : (undefined as R)));
      }
    } catch (error) {
      this.#active = false;
      throw error;
    }
  }
}
