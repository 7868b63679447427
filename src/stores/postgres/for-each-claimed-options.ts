import type { PoolClient } from 'pg';
import { itemKey as defaultItemKey } from '../../core/item-key.js';
import type { JsonValue } from '../../core/json.js';
import type { AbortSignalLike } from '../../core/platform-types.js';
import { checkOptions, MAX_TIMER_MS, rules, type OptionRule } from '../../core/validate-options.js';
import type { BackoffOptions } from '../../runner/options.js';
import { FOR_EACH_OPTIONS, resolveBackoff, type ResolvedOptions } from '../../runner/resolve-options.js';
import { CLAIM_OPTIONS } from './resolve-options.js';

/**
 * Options of a work queue's `forEach`. Retries, backoff and timeouts follow the same rules as the
 * manager's `step(name).forEach`. Each given option is checked when `forEach` is called: a wrong
 * type, a number out of range or an unknown key is a CheckpointArgumentError.
 */
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
   * Tries of an item in this worker after its first failure before it is marked failed
   * (`Infinity` allowed), while its lease is held.
   * @default 0
   */
  retries?: number;
  /** Delays between retries, drawn with full jitter; see {@link BackoffOptions}. */
  backoff?: BackoffOptions;
  /**
   * Whether an error is worth a retry in this worker.
   * @default () => true
   */
  retryOn?: (error: unknown) => boolean;
  /**
   * Time limit of one try. When it runs out, the try's signal fires and the try fails with a
   * `TimeoutError` (retried like any error), whether or not `fn` honours the signal.
   */
  timeoutMs?: number;
  /**
   * After this many claims in total (across workers and runs), a failing item becomes a dead letter.
   * @default Infinity
   */
  maxAttempts?: number;
  /** Derives an item's key; every worker must use the same. Defaults to `itemKey`. */
  itemKey?: (item: T) => string;
  /** Stops claiming; items in flight get their signal and finish, claimed items not started are released. */
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
  step: string;
  /** Claims of this item so far across all workers, this one included. */
  attempt: number;
  /** Aborts when this try times out, this worker loses the item's lease, or `signal` aborts. */
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

/** Every option with its rule: those that `forEach` also has follow its rules. */
const FOR_EACH_CLAIMED_OPTIONS = {
  concurrency: FOR_EACH_OPTIONS.concurrency,
  batchSize: CLAIM_OPTIONS.batchSize,
  leaseMs: CLAIM_OPTIONS.leaseMs,
  heartbeatMs: rules.number({ min: 1, max: MAX_TIMER_MS }),
  pollMs: rules.number({ min: 1, max: MAX_TIMER_MS }),
  retries: FOR_EACH_OPTIONS.retries,
  backoff: FOR_EACH_OPTIONS.backoff,
  retryOn: FOR_EACH_OPTIONS.retryOn,
  timeoutMs: FOR_EACH_OPTIONS.timeoutMs,
  maxAttempts: rules.number({ min: 1, infinity: true }),
  itemKey: rules.function,
  signal: rules.abortSignal,
  completeWith: rules.function,
} as const satisfies Record<keyof ForEachClaimedOptions<unknown>, OptionRule>;

export interface ResolvedClaimOptions<T> extends Pick<ResolvedOptions, 'concurrency' | 'retries' | 'backoff' | 'retryOn' | 'timeoutMs'> {
  batchSize: number;
  leaseMs: number;
  heartbeatMs: number;
  pollMs: number;
  maxAttempts: number;
  itemKey: (item: T) => string;
  signal: AbortSignal | undefined;
  completeWith: ForEachClaimedOptions<T>['completeWith'];
}

const retryAll = (): boolean => true;

/** Checks the options of `forEach` and fills in their defaults. */
export function resolveClaimOptions<T>(options: ForEachClaimedOptions<T> = {}): ResolvedClaimOptions<T> {
  checkOptions(options, FOR_EACH_CLAIMED_OPTIONS, 'forEach of a PostgresWorkQueue');
  const concurrency = options.concurrency ?? 4;
  const leaseMs = options.leaseMs ?? 30_000;
  return {
    concurrency,
    batchSize: options.batchSize ?? concurrency * 2,
    leaseMs,
    heartbeatMs: options.heartbeatMs ?? Math.max(1, Math.floor(leaseMs / 3)),
    pollMs: options.pollMs ?? Math.max(1, Math.min(1000, Math.floor(leaseMs / 2))),
    retries: options.retries ?? 0,
    backoff: resolveBackoff(options.backoff),
    retryOn: options.retryOn ?? retryAll,
    timeoutMs: options.timeoutMs,
    maxAttempts: options.maxAttempts ?? Infinity,
    itemKey: options.itemKey ?? defaultItemKey,
    signal: options.signal as AbortSignal | undefined,
    completeWith: options.completeWith,
  };
}
