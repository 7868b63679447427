import { CheckpointArgumentError } from '../../core/errors.js';
import { checkOptions, MAX_TIMER_MS, rejectOptionsWith, rule, rules, type OptionRule, type OptionRules } from '../../core/validate-options.js';
import { snapshotFormatFor, type SnapshotFormat } from '../file/snapshot-formats.js';
import type { ObjectBucket } from './bucket.js';
import type { Cloud } from './clouds.js';
import { isSnapshotKey } from './object-keys.js';
import { FILE_STORE_OPTIONS, SHARED_DEFAULTS, withEnvironmentOptions, type CorruptPolicy, type Durability } from '../file/file-store-options.js';

/**
 * What an acknowledged (awaited) mark survives in a bucket; the words mean what they mean for
 * every store (see {@link Durability}). A bucket has no append and no buffer outside this
 * process: marks are written as create-only segment objects, one request for all marks waiting.
 * - `full` and `normal`: the process crashing, or the machine vanishing — a mark resolves once
 *   the segment holding it is created (that is when it has left the process); concurrent marks
 *   share one request (group commit). A crash loses nothing acknowledged.
 * - `batched`: the mark resolves at once; waiting marks are written every `batchSize` marks or
 *   `batchIntervalMs`. A crash loses at most two batches (the one being written and the one filling).
 */
export type ObjectDurability = Durability;

/** The options of the object-storage stores (AzureBlobStore, S3Store, GcsStore). */
export interface ObjectStoreOptions {
  /**
   * What an acknowledged mark survives; see {@link ObjectDurability}.
   * @default 'normal'
   */
  durability?: ObjectDurability;
  /**
   * With `batched` durability, how many marks are written together.
   * @default 100
   */
  batchSize?: number;
  /**
   * With `batched` durability, the longest a mark waits to be written, in milliseconds.
   * @default 1000
   */
  batchIntervalMs?: number;
  /**
   * Segments are folded into a new snapshot once they hold more bytes than the snapshot and at
   * least this many…
   * @default 1048576
   */
  minCompactBytes?: number;
  /**
   * …or once there are this many of them (each is read when the checkpoint opens).
   * @default 500
   */
  maxSegments?: number;
  /**
   * While marks flow, the snapshot object is refreshed at least this often, in milliseconds; `0`
   * only when the segments outgrow it and on close. Each refresh uploads the whole document.
   * @default 60000
   */
  snapshotIntervalMs?: number;
  /**
   * How long the lease is good for after each renewal, in milliseconds. A process that dies
   * without closing holds the checkpoint this long (unless it ran on the same host: then the next
   * opener sees it is gone). The holder stops acknowledging after two thirds of it without a
   * renewal, which allows for clocks of different hosts differing by up to a third.
   * @default 30000
   */
  leaseTtlMs?: number;
  /**
   * How often the lease is renewed, in milliseconds; less than a third of `leaseTtlMs`.
   * @default 10000
   */
  leaseRenewMs?: number;
  /**
   * `fail` throws CheckpointCorruptError when the snapshot and its backup are damaged, or a
   * segment is; `restart` keeps the damaged snapshot and backup aside (`<key>.corrupt-<time>`,
   * `<key>.bak.corrupt-<time>`), says so in a warning, and starts an empty checkpoint.
   * @default 'fail'
   */
  onCorrupt?: CorruptPolicy;
}

export type ResolvedObjectStoreOptions = Required<ObjectStoreOptions>;

/** The options of CheckpointManager.open that an object-storage path takes over: they follow the file stores' rules. */
export const SHARED_WITH_FILE_STORES = ['durability', 'batchSize', 'batchIntervalMs', 'minCompactBytes', 'snapshotIntervalMs', 'onCorrupt'] as const;

export const OBJECT_STORE_OPTIONS = {
  ...(Object.fromEntries(SHARED_WITH_FILE_STORES.map((key) => [key, FILE_STORE_OPTIONS[key]])) as Pick<typeof FILE_STORE_OPTIONS, (typeof SHARED_WITH_FILE_STORES)[number]>),
  maxSegments: rules.number({ min: 1 }),
  leaseTtlMs: rules.number({ min: 100, max: MAX_TIMER_MS }),
  leaseRenewMs: rules.number({ min: 10, max: MAX_TIMER_MS }),
} as const satisfies Record<keyof ObjectStoreOptions, OptionRule>;

/** The options of every cloud's store class: the object store's, and where the snapshot object is. */
export interface CloudStoreOptions extends ObjectStoreOptions {
  /** The snapshot object's name, ending in `.json`, `.yaml` or `.yml`; the other objects go beside it. */
  key: string;
}

/** Options of the file stores that a bucket has no use for: it is held by a lease, keeps one backup object and writes marks as segments. */
export const FILE_ONLY_OPTIONS = ['fsyncIntervalMs', 'backups', 'lock'] as const;

/**
 * Refuses the file stores' own options given for a bucket (`given`: the store class or the URL),
 * saying they apply to files only, before an unknown-option check would suggest a near name.
 */
export function rejectFileOnlyOptions(options: Record<string, unknown>, given: string, takes: readonly string[]): void {
  rejectOptionsWith({ ...options, [given]: true }, given, FILE_ONLY_OPTIONS, `those apply to checkpoint files only; ${given} takes ${takes.map((key) => `\`${key}\``).join(', ')}`);
}

/**
 * What `cloud`'s store class hands to ObjectStore's constructor: its `options` checked against
 * `optionRules` (from cloudStoreRules), the bucket `makeBucket` makes of them, the key and its
 * format, and the options every object store takes, over those the environment sets.
 * @throws CheckpointArgumentError for a bad option, or a bad CHECKPOINTER_* variable (even one for files only)
 */
export function cloudStoreArguments<Options extends CloudStoreOptions>(
  cloud: Cloud,
  options: Options,
  optionRules: OptionRules,
  makeBucket: (options: Options) => ObjectBucket,
): [ObjectBucket, string, SnapshotFormat, ObjectStoreOptions, string] {
  if (typeof options === 'object' && options !== null) rejectFileOnlyOptions(options as Record<string, unknown>, cloud.store, Object.keys(optionRules));
  checkOptions(options, optionRules, cloud.store);
  // The deployment's CHECKPOINTER_* variables, as for a file: an option given in code wins.
  const storeOptions = Object.fromEntries(Object.entries(withEnvironmentOptions(options, process.env, OBJECT_STORE_OPTIONS)).filter(([option]) => Object.hasOwn(OBJECT_STORE_OPTIONS, option)));
  return [makeBucket(options), options.key, snapshotFormatFor(options.key), storeOptions, cloud.store];
}

/**
 * The options of `cloud`'s store class: those of every object store, where the checkpoint is —
 * the bucket (or container) by the cloud's naming rule and the snapshot's `key`, both required —
 * and the class's own (its client).
 */
export function cloudStoreRules<Own extends Record<string, OptionRule>>(cloud: Cloud, own: Own): typeof OBJECT_STORE_OPTIONS & Own {
  return {
    ...OBJECT_STORE_OPTIONS,
    [cloud.bucketOption]: { ...rule(cloud.expected, (value) => typeof value === 'string' && cloud.bucketName.test(value)), required: true },
    key: { ...rule(`${cloud.object} ending in .json, .yaml or .yml, without empty, "." or ".." path segments (nor a leading "/"), backslashes or control characters`, (value) => typeof value === 'string' && isSnapshotKey(value)), required: true },
    ...own,
  };
}

/** The rule of a client option: `what` (an SDK's client class), told by its `method`. */
export const clientRule = (what: string, method: string): OptionRule =>
  rule(`${what} (with a ${method} function)`, (value) => typeof (value as Record<string, unknown> | null)?.[method] === 'function');

export function resolveObjectStoreOptions(options: ObjectStoreOptions, subject: string): ResolvedObjectStoreOptions {
  checkOptions(options, OBJECT_STORE_OPTIONS, subject);
  const resolved: ResolvedObjectStoreOptions = {
    durability: options.durability ?? SHARED_DEFAULTS.durability,
    batchSize: options.batchSize ?? SHARED_DEFAULTS.batchSize,
    batchIntervalMs: options.batchIntervalMs ?? SHARED_DEFAULTS.batchIntervalMs,
    minCompactBytes: options.minCompactBytes ?? 1 << 20,
    maxSegments: options.maxSegments ?? 500,
    snapshotIntervalMs: options.snapshotIntervalMs ?? 60_000,
    leaseTtlMs: options.leaseTtlMs ?? 30_000,
    leaseRenewMs: options.leaseRenewMs ?? Math.min(10_000, Math.floor((options.leaseTtlMs ?? 30_000) / 3)),
    onCorrupt: options.onCorrupt ?? SHARED_DEFAULTS.onCorrupt,
  };
  if (resolved.leaseRenewMs * 3 > resolved.leaseTtlMs) {
    throw new CheckpointArgumentError(
      `Expected \`leaseRenewMs\` to be at most a third of \`leaseTtlMs\` (${resolved.leaseTtlMs}), got ${resolved.leaseRenewMs} — a holder must renew well before it stops trusting its lease`,
    );
  }
  return resolved;
}
