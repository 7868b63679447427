import type { AbortSignalLike } from '../../core/platform-types.js';
import type { PoolClient } from 'pg';
import { CheckpointArgumentError, describeValue } from '../../core/errors.js';
import { itemKey as defaultItemKey } from '../../core/item-key.js';
import type { JsonValue } from '../../core/json.js';
import { toErrorInfo } from '../../core/error-info.js';
import { CompletionBatcher } from './completion-batcher.js';
import { LeaseLostError } from './errors.js';
import type { PostgresStore } from './postgres-store.js';
import { positiveInteger } from './validate.js';

export interface ForEachClaimedOptions<T> {
  /**
   * Items this worker runs at once.
   * @default 4
   */
  concurrency?: number;
  /**
   * Items claimed per round trip.
   * @default 2 × concurrency
   */
  batchSize?: number;
  /**
   * How long claimed items stay this worker's without a heartbeat. A worker that dies gives its
   * items back after at most this long (plus one `pollMs` of the worker that takes them).
   * @default 30000
   */
  leaseMs?: number;
  /**
   * How often held leases are extended.
   * @default leaseMs / 3
   */
  heartbeatMs?: number;
  /**
   * How often a worker with nothing to claim looks again while other workers still hold items.
   * @default min(1000, leaseMs / 2)
   */
  pollMs?: number;
  /**
   * Tries of an item in this worker after its first failure before it is marked failed.
   * @default 0
   */
  retries?: number;
  /**
   * After this many claims in total (across workers and runs), a failing item becomes a dead letter.
   * @default Infinity
   */
  maxAttempts?: number;
  /** Derives an item's key; every worker must use the same. Defaults to `itemKey`. */
  itemKey?: (item: T) => string;
  /** Stops claiming; items in flight finish, claimed items not started are released. */
  signal?: AbortSignalLike;
  /**
   * Runs inside the transaction that completes the item, with the item and `fn`'s result: what it
   * writes commits exactly once, together with the completion.
   */
  completeWith?: (client: PoolClient, item: T, result: JsonValue | undefined) => Promise<void>;
}

/** What `fn` gets besides the item. */
export interface ClaimedItemContext {
  key: string;
  /** Claims of this item so far across all workers, this one included. */
  attempt: number;
  /** Aborts when this worker loses the item's lease or `signal` aborts. */
  signal: AbortSignalLike;
}

export interface ForEachClaimedReport {
  /** Items this worker completed. */
  completed: number;
  /** Items this worker marked failed (or dead letters). */
  failed: number;
  /** Items whose lease was lost before they finished: another worker completes them. */
  lost: number;
  durationMs: number;
}

interface Held {
  token: string;
  controller: AbortController;
}

/**
 * Runs `fn` over the items of one step together with every other worker that calls it with the
 * same store (pipeline, run) and step: the items are registered once, then each worker claims
 * batches under a lease that a heartbeat keeps alive, so each item is completed by exactly one
 * worker. Resolves when no item of the step is pending or held by any worker.
 */
export async function forEachClaimed<T>(
  store: PostgresStore,
  step: string,
  items: Iterable<T>,
  fn: (item: T, context: ClaimedItemContext) => Promise<JsonValue | void>,
  options: ForEachClaimedOptions<T> = {},
): Promise<ForEachClaimedReport> {
  const started = performance.now();
  const concurrency = positiveInteger('concurrency', options.concurrency ?? 4);
  const batchSize = positiveInteger('batchSize', options.batchSize ?? concurrency * 2);
  const leaseMs = positiveInteger('leaseMs', options.leaseMs ?? 30_000);
  const heartbeatMs = positiveInteger('heartbeatMs', options.heartbeatMs ?? Math.max(1, Math.floor(leaseMs / 3)));
  const pollMs = positiveInteger('pollMs', options.pollMs ?? Math.max(1, Math.min(1000, Math.floor(leaseMs / 2))));
  const retries = options.retries ?? 0;
  if (!Number.isInteger(retries) || retries < 0) throw new CheckpointArgumentError(`Expected \`retries\` to be a non-negative integer, got ${describeValue(retries)}`);
  const keyOf = options.itemKey ?? defaultItemKey;
  const byKey = new Map<string, T>();
  for (const item of items) byKey.set(keyOf(item), item);
  await store.registerItems(step, byKey.keys());

  const report: ForEachClaimedReport = { completed: 0, failed: 0, lost: 0, durationMs: 0 };
  const held = new Map<string, Held>();
  const queue: { key: string; attempts: number; token: string }[] = [];
  const inFlight = new Set<Promise<void>>();
  let fatal: { error: unknown } | undefined;
  const completions = new CompletionBatcher((entries) => store.completeMany(step, entries));

  const beat = async (): Promise<void> => {
    const byToken = new Map<string, string[]>();
    for (const [key, lease] of held) byToken.set(lease.token, [...(byToken.get(lease.token) ?? []), key]);
    for (const [token, keys] of byToken) {
      const kept = new Set(await store.extendLease(step, token, keys, leaseMs));
      for (const key of keys) if (!kept.has(key)) held.get(key)?.controller.abort(new LeaseLostError(store.location, step, key));
    }
  };
  let beating = false;
  const heartbeat = setInterval(() => {
    if (beating) return;
    beating = true;
    beat()
      .catch((error: unknown) => {
        fatal ??= { error };
      })
      .finally(() => {
        beating = false;
      });
  }, heartbeatMs);

  const work = async (key: string, attempts: number, token: string): Promise<void> => {
    const lease = held.get(key)!;
    const item = byKey.get(key) as T;
    const signal = options.signal ? AbortSignal.any([lease.controller.signal, options.signal]) : lease.controller.signal;
    for (let tries = 0; ; tries++) {
      let result: JsonValue | void;
      try {
        result = await fn(item, { key, attempt: attempts, signal });
      } catch (error) {
        if (lease.controller.signal.aborted) throw lease.controller.signal.reason;
        if (options.signal?.aborted) {
          await store.release(step, token, [key]);
          return;
        }
        if (tries < retries) {
          await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 100 * 2 ** tries)));
          continue;
        }
        await store.fail(step, key, token, toErrorInfo(error), { maxAttempts: options.maxAttempts ?? Infinity });
        report.failed++;
        return;
      }
      const stored = result as JsonValue | undefined;
      const { completeWith } = options;
      if (completeWith) {
        await store.complete(step, key, token, { ...(stored === undefined ? {} : { result: stored }), inTransaction: (client) => completeWith(client, item, stored) });
      } else if (!(await completions.complete(key, token, stored))) {
        throw new LeaseLostError(store.location, step, key);
      }
      report.completed++;
      return;
    }
  };

  const start = (next: { key: string; attempts: number; token: string }): void => {
    const running = work(next.key, next.attempts, next.token)
      .catch((error: unknown) => {
        if (error instanceof LeaseLostError) report.lost++;
        else fatal ??= { error };
      })
      .finally(() => {
        held.delete(next.key);
        inFlight.delete(running);
      });
    inFlight.add(running);
  };

  try {
    while (!fatal && !options.signal?.aborted) {
      if (queue.length === 0 && inFlight.size < concurrency) {
        const lease = await store.claim(step, { batchSize, leaseMs });
        const unknown = lease.items.filter((claimed) => !byKey.has(claimed.key));
        if (unknown.length > 0) {
          await store.release(step, lease.token, lease.items.map((claimed) => claimed.key));
          throw new CheckpointArgumentError(
            `Step "${step}" has item ${JSON.stringify(unknown[0]!.key)}, which is not among this worker's items — give every worker of ${store.location} the same items and itemKey`,
          );
        }
        for (const claimed of lease.items) {
          held.set(claimed.key, { token: lease.token, controller: new AbortController() });
          queue.push({ ...claimed, token: lease.token });
        }
        if (lease.items.length === 0 && inFlight.size === 0) {
          if (!(await store.hasUnfinishedItems(step))) break;
          await new Promise((resolve) => setTimeout(resolve, pollMs));
          continue;
        }
      }
      while (queue.length > 0 && inFlight.size < concurrency) start(queue.shift()!);
      if (inFlight.size > 0) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
  } finally {
    clearInterval(heartbeat);
    await Promise.allSettled(inFlight);
    // Claimed but never started (aborted, or a fatal error): back to the pool for other workers.
    const byToken = new Map<string, string[]>();
    for (const left of queue.splice(0)) byToken.set(left.token, [...(byToken.get(left.token) ?? []), left.key]);
    for (const [token, keys] of byToken) await store.release(step, token, keys).catch(() => 0);
  }
  if (fatal) throw fatal.error;
  report.durationMs = performance.now() - started;
  return report;
}
