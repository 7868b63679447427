import { checkOptions, MAX_TIMER_MS, rules, type OptionRule } from '../../core/validate-options.js';

/**
 * What an acknowledged (awaited) mark survives:
 * - `full`: power loss — the mark resolves after fsync; concurrent marks share one fsync.
 * - `normal`: a crash or `kill -9` of the process — the mark resolves once its record is written
 *   to the operating system; fsync runs every `fsyncIntervalMs` and on flush/close.
 * - `batched`: records are written every `batchSize` marks or `batchIntervalMs`; a crash loses at
 *   most one batch.
 */
export type Durability = 'full' | 'normal' | 'batched';

/** What to do when a checkpoint is damaged and no backup is good. */
export type CorruptPolicy = 'fail' | 'restart';

/**
 * The options of JsonFileStore and YamlFileStore, checked when the store is made: a wrong type,
 * a number out of range or an unknown key (with the nearest known one suggested) is a
 * CheckpointArgumentError. An option whose value is `undefined` counts as not given.
 */
export interface FileStoreOptions {
  /**
   * What an acknowledged mark survives; see {@link Durability}.
   * @default 'normal'
   */
  durability?: Durability;
  /**
   * With `normal` durability, how often the journal is fsynced, in milliseconds; `0` fsyncs only
   * on flush and close.
   * @default 1000
   */
  fsyncIntervalMs?: number;
  /**
   * With `batched` durability, how many marks are written together.
   * @default 100
   */
  batchSize?: number;
  /**
   * With `batched` durability, the longest a mark waits to be written, in milliseconds (at
   * least 1).
   * @default 1000
   */
  batchIntervalMs?: number;
  /**
   * How many previous snapshots to keep: `file.bak`, `file.bak.1`, `file.bak.2`, …
   * @default 3
   */
  backups?: number;
  /**
   * Hold a lock file so that only one process writes the checkpoint; `false` for read-only
   * tools that must not wait for the writer.
   * @default true
   */
  lock?: boolean;
  /**
   * `fail` throws CheckpointCorruptError when the checkpoint and all backups are damaged;
   * `restart` moves the damaged files aside and starts an empty checkpoint.
   * @default 'fail'
   */
  onCorrupt?: CorruptPolicy;
  /**
   * The journal is compacted into a new snapshot once it is larger than the snapshot and at
   * least this many bytes.
   * @default 1048576
   */
  minCompactBytes?: number;
  /**
   * While marks flow, the human-readable snapshot (what people `cat`) is refreshed at least this
   * often, in milliseconds: the journal is folded into it once it holds changes this old, even
   * when it is still small. `0` refreshes only when the journal outgrows the snapshot and on close.
   * @default 30000
   */
  snapshotIntervalMs?: number;
}

export type ResolvedFileStoreOptions = Required<Omit<FileStoreOptions, 'durability'>>;

/** Every file-store option with its rule; the manager and Pipeline take these too. */
export const FILE_STORE_OPTIONS = {
  durability: rules.oneOf('full', 'normal', 'batched'),
  // 0 turns the periodic fsync off (journal records still reach the OS at once, and flush/close fsync).
  fsyncIntervalMs: rules.number({ min: 0, max: MAX_TIMER_MS, integer: false }),
  batchSize: rules.number({ min: 1 }),
  // At least 1: with 0 there would be no timer, and a batched mark could wait for ever.
  batchIntervalMs: rules.number({ min: 1, max: MAX_TIMER_MS, integer: false }),
  backups: rules.number({ min: 0 }),
  lock: rules.boolean,
  onCorrupt: rules.oneOf('fail', 'restart'),
  minCompactBytes: rules.number({ min: 0 }),
  snapshotIntervalMs: rules.number({ min: 0, max: MAX_TIMER_MS, integer: false }),
} as const satisfies Record<keyof FileStoreOptions, OptionRule>;

/** How many backups a file store keeps when its `backups` option is not given. */
export const DEFAULT_BACKUPS = 3;

/**
 * The options checked (unknown keys and bad values are a CheckpointArgumentError) and with
 * their defaults filled in.
 */
export function resolvedOptions(options: FileStoreOptions): ResolvedFileStoreOptions {
  checkOptions(options, FILE_STORE_OPTIONS, 'a file store (JsonFileStore, YamlFileStore)');
  return {
    fsyncIntervalMs: options.fsyncIntervalMs ?? 1000,
    batchSize: options.batchSize ?? 100,
    batchIntervalMs: options.batchIntervalMs ?? 1000,
    backups: options.backups ?? DEFAULT_BACKUPS,
    lock: options.lock ?? true,
    onCorrupt: options.onCorrupt ?? 'fail',
    minCompactBytes: options.minCompactBytes ?? 1 << 20,
    snapshotIntervalMs: options.snapshotIntervalMs ?? 30_000,
  };
}
