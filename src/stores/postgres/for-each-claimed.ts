import { CheckpointArgumentError, describeValue } from '../../core/errors.js';
import type { JsonValue } from '../../core/json.js';
import { toErrorInfo } from '../../core/error-info.js';
import { AttemptGroup } from '../../runner/attempt.js';
import { backoffDelay, sleep } from '../../runner/backoff.js';
import { ClaimedContext, withStop } from './claimed-context.js';
import { CompletionBatcher } from './completion-batcher.js';
import { LeaseLostError } from './errors.js';
import { resolveClaimOptions, type ClaimedItemContext, type ForEachClaimedOptions, type ForEachClaimedReport, type ResolvedClaimOptions } from './for-each-claimed-options.js';
import type { PostgresWorkQueue } from './work-queue.js';

export type { ClaimedItemContext, ForEachClaimedOptions, ForEachClaimedReport } from './for-each-claimed-options.js';

type ClaimedFunction<T> = (item: T, context: ClaimedItemContext) => Promise<JsonValue | void>;

/** A claimed item, from its claim until it is completed, failed, released or lost. */
interface Held {
  key: string;
  token: string;
  /** Claims of the item so far, across all workers. */
  attempts: number;
  /** The item's tries: abandoning them on a lost lease settles the one in flight at once. */
  tries: AttemptGroup;
  /** Set when a heartbeat finds the lease gone. */
  lost: LeaseLostError | undefined;
  /** Ends a backoff wait when the lease is lost. */
  wake: (() => void) | undefined;
}

/**
 * `queue.forEach(items, fn)`: runs `fn` over the items of one step together with every other worker
 * that does so for the same checkpoint and step. The items are registered once, then each worker
 * claims batches under a lease that a heartbeat keeps alive, so that each item is completed by
 * exactly one worker. Each try runs like one of `step(name).forEach`: with `timeoutMs`, and
 * retries after a backoff with full jitter. Resolves when no item of the step is pending or held
 * by any worker.
 */
export function forEachClaimed<T>(
  queue: PostgresWorkQueue,
  items: Iterable<T>,
  fn: ClaimedFunction<T>,
  options?: ForEachClaimedOptions<T>,
): Promise<ForEachClaimedReport> {
  if (typeof fn !== 'function') throw new CheckpointArgumentError(`Expected \`fn\` to be a function, got ${describeValue(fn)}`);
  return new ClaimedRun(queue, items, fn, resolveClaimOptions(options)).run();
}

/** An item's completion on its way: wrapped, since a promise resolved with a promise would wait for it. */
interface Completing {
  committed: Promise<void>;
}

/**
 * How many handled items may wait for their completion to commit, per claimed batch: beyond it
 * no more is claimed, so a database that is slow to commit slows the handlers rather than
 * piling up work a crash would redo.
 */
const COMMITTING_BATCHES = 4;

class ClaimedRun<T> {
  readonly #queue: PostgresWorkQueue;
  readonly #fn: ClaimedFunction<T>;
  readonly #options: ResolvedClaimOptions<T>;
  readonly #byKey = new Map<string, T>();
  readonly #held = new Map<string, Held>();
  /** Claimed, not started yet. */
  readonly #waiting: Held[] = [];
  readonly #inFlight = new Set<Promise<void>>();
  /** Handled items whose completion is being committed: their slot is free, their lease still kept. */
  readonly #committing = new Set<Promise<void>>();
  readonly #completions: CompletionBatcher;
  readonly #report: ForEachClaimedReport = { completed: 0, failed: 0, lost: 0, durationMs: 0 };
  /** The claim being made while items run, so that the next batch is there when a slot frees. */
  #claiming: Promise<void> | undefined;
  /** The last claim found nothing: claim again only once this worker's items are done. */
  #drained = false;
  #fatal: { error: unknown } | undefined;

  constructor(queue: PostgresWorkQueue, items: Iterable<T>, fn: ClaimedFunction<T>, options: ResolvedClaimOptions<T>) {
    this.#queue = queue;
    this.#fn = fn;
    this.#options = options;
    for (const item of items) this.#byKey.set(options.itemKey(item), item);
    this.#completions = new CompletionBatcher((entries) => queue.completeMany(entries));
  }

  async run(): Promise<ForEachClaimedReport> {
    const started = performance.now();
    const { concurrency, batchSize, signal } = this.#options;
    await this.#queue.registerItems(this.#byKey.keys());
    const heartbeat = this.#startHeartbeat();
    try {
      while (!this.#fatal && !signal?.aborted) {
        // Claim ahead: the next batch is asked for once half of this one has started, so that it
        // is there before the last of this one is done, even when items take no time.
        if (this.#waiting.length < Math.max(concurrency, batchSize / 2) && !this.#claiming && !this.#drained && this.#committing.size < batchSize * COMMITTING_BATCHES) this.#claimAhead();
        while (this.#waiting.length > 0 && this.#inFlight.size < concurrency) this.#start(this.#waiting.shift()!);
        if (this.#inFlight.size > 0 || this.#claiming) {
          await Promise.race([...this.#inFlight, ...(this.#claiming ? [this.#claiming] : [])]);
        } else if (this.#committing.size > 0) {
          await Promise.race(this.#committing);
        } else {
          // Nothing of this worker's is left: done unless another worker still holds items, whose
          // lease may run out.
          if (!(await this.#queue.hasUnfinishedItems())) break;
          await this.#pause();
          this.#drained = false;
        }
      }
    } finally {
      clearInterval(heartbeat);
      await this.#claiming;
      await Promise.allSettled(this.#inFlight);
      await Promise.allSettled(this.#committing);
      await this.#releaseWaiting();
    }
    if (this.#fatal) throw this.#fatal.error;
    this.#report.durationMs = performance.now() - started;
    return this.#report;
  }

  #claimAhead(): void {
    this.#claiming = this.#claim()
      .then(
        (claimed) => {
          this.#drained = claimed === 0;
        },
        (error: unknown) => {
          this.#fatal ??= { error };
        },
      )
      .finally(() => {
        this.#claiming = undefined;
      });
  }

  /** Claims a batch and queues it; returns how many items came. */
  async #claim(): Promise<number> {
    const { batchSize, leaseMs } = this.#options;
    const lease = await this.#queue.claim({ batchSize, leaseMs });
    const unknown = lease.items.find((claimed) => !this.#byKey.has(claimed.key));
    if (unknown) {
      await this.#queue.release(lease.token, lease.items.map((claimed) => claimed.key));
      throw new CheckpointArgumentError(
        `Step "${this.#queue.step}" has item ${JSON.stringify(unknown.key)}, which is not among this worker's items — give every worker of ${this.#queue.location} the same items and itemKey`,
      );
    }
    for (const { key, attempts } of lease.items) {
      const held: Held = { key, token: lease.token, attempts, tries: new AttemptGroup(), lost: undefined, wake: undefined };
      this.#held.set(key, held);
      this.#waiting.push(held);
    }
    return lease.items.length;
  }

  #pause(): Promise<void> {
    const { pollMs, signal } = this.#options;
    if (!signal) return new Promise((resolve) => setTimeout(resolve, pollMs));
    return sleep(pollMs, signal).catch(() => {});
  }

  #start(held: Held): void {
    const running = this.#work(held)
      .then(
        (completion) => {
          if (completion) this.#commitLater(held, completion.committed);
          else this.#held.delete(held.key);
        },
        (error: unknown) => {
          this.#settled(held, { error });
        },
      )
      .finally(() => this.#inFlight.delete(running));
    this.#inFlight.add(running);
  }

  /**
   * Frees the item's slot at once and commits its completion with those of the items that finish
   * meanwhile (one statement for all); the heartbeat keeps its lease until then, and it counts
   * as completed once committed.
   */
  #commitLater(held: Held, committed: Promise<void>): void {
    const committing = committed.then(
      () => this.#settled(held, undefined),
      (error: unknown) => this.#settled(held, { error }),
    );
    this.#committing.add(committing);
    void committing.finally(() => this.#committing.delete(committing));
  }

  /** The item is done with: completed (no failure), lost, or the run must stop. */
  #settled(held: Held, failure: { error: unknown } | undefined): void {
    this.#held.delete(held.key);
    if (!failure) this.#report.completed++;
    else if (failure.error instanceof LeaseLostError) this.#report.lost++;
    else this.#fatal ??= failure;
  }

  /** Runs the item's tries; resolves with its completion (still being committed), or nothing when it was failed or released. */
  async #work(held: Held): Promise<Completing | undefined> {
    const { key, token, attempts, tries } = held;
    const { retries, retryOn, backoff, timeoutMs, signal, maxAttempts } = this.#options;
    const item = this.#byKey.get(key) as T;
    const step = this.#queue.step;
    for (let retry = 0; ; retry++) {
      let outcome: { ok: true; value: JsonValue | void } | { ok: false; error: unknown };
      try {
        const value = await tries.run((context) => this.#fn(item, new ClaimedContext(key, step, attempts, context, signal)), attempts, step, timeoutMs);
        outcome = { ok: true, value };
      } catch (error) {
        outcome = { ok: false, error };
      }
      if (outcome.ok) return this.#complete(held, item, outcome.value as JsonValue | undefined);
      if (held.lost) throw held.lost;
      if (signal?.aborted) return void (await this.#release(held));
      if (retry < retries && retryOn(outcome.error)) {
        const waiting = new AbortController();
        held.wake = () => waiting.abort();
        const waited = await sleep(backoffDelay(retry + 1, backoff), withStop(waiting.signal, signal)).then(() => true, () => false);
        held.wake = undefined;
        if (held.lost) throw held.lost;
        if (waited) continue;
        return void (await this.#release(held));
      }
      await this.#queue.fail(key, token, toErrorInfo(outcome.error), { maxAttempts });
      this.#report.failed++;
      return undefined;
    }
  }

  /**
   * Completes the item: with `completeWith`, in its own transaction before the slot is freed (the
   * user's statements run in it); otherwise through the batcher, resolving at once with the
   * commit still to come.
   */
  async #complete({ key, token }: Held, item: T, result: JsonValue | undefined): Promise<Completing> {
    const { completeWith } = this.#options;
    if (completeWith) {
      await this.#queue.complete(key, token, { ...(result === undefined ? {} : { result }), inTransaction: (client) => completeWith(client, item, result) });
      return { committed: Promise.resolve() };
    }
    const committed = this.#completions.complete(key, token, result).then((kept) => {
      if (!kept) throw new LeaseLostError(this.#queue.location, this.#queue.step, key);
    });
    return { committed };
  }

  async #release({ key, token }: Held): Promise<void> {
    await this.#queue.release(token, [key]);
  }

  /** Extends every held lease each `heartbeatMs`; items whose lease is gone are abandoned as lost. */
  #startHeartbeat(): ReturnType<typeof setInterval> {
    let beating = false;
    return setInterval(() => {
      if (beating) return;
      beating = true;
      this.#beat()
        .catch((error: unknown) => {
          this.#fatal ??= { error };
        })
        .finally(() => {
          beating = false;
        });
    }, this.#options.heartbeatMs);
  }

  async #beat(): Promise<void> {
    for (const [token, held] of byToken(this.#held.values())) {
      const kept = new Set(await this.#queue.extendLease(token, held.map((each) => each.key), this.#options.leaseMs));
      for (const each of held) {
        if (kept.has(each.key)) continue;
        each.lost = new LeaseLostError(this.#queue.location, this.#queue.step, each.key);
        each.tries.abandon(each.lost);
        each.wake?.();
      }
    }
  }

  /** Claimed but never started (aborted, or a fatal error): back to the pool for other workers. */
  async #releaseWaiting(): Promise<void> {
    for (const [token, held] of byToken(this.#waiting.splice(0))) {
      await this.#queue.release(token, held.map((each) => each.key)).catch(() => 0);
    }
  }
}

function byToken(held: Iterable<Held>): Map<string, Held[]> {
  const groups = new Map<string, Held[]>();
  for (const each of held) {
    const group = groups.get(each.token);
    if (group) group.push(each);
    else groups.set(each.token, [each]);
  }
  return groups;
}
