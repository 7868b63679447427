import { CheckpointArgumentError } from '../../core/errors.js';
import { checkOptions, closest, MAX_TIMER_MS, rules, type OptionRule, type OptionRules } from '../../core/validate-options.js';
import { DURABILITIES, type Durability } from '../write-batcher.js';

export type { Durability } from '../write-batcher.js';

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
   * least this many bytes. The default, 4 MiB (about 32,000 item marks), replays in a few tens
   * of milliseconds after a crash, and spares a small checkpoint a compaction — each one a
   * rewrite of the whole snapshot and a few fsyncs — every few thousand marks.
   * @default 4194304
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

export type ResolvedFileStoreOptions = Required<FileStoreOptions>;

/** Every file-store option with its rule; the manager and Pipeline take these too. */
export const FILE_STORE_OPTIONS = {
  durability: rules.oneOf(...DURABILITIES),
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

/** The defaults of the options file stores share with the object stores (whose snapshot refresh differs). */
export const SHARED_DEFAULTS = {
  durability: 'normal',
  batchSize: 100,
  batchIntervalMs: 1000,
  onCorrupt: 'fail',
} as const satisfies Partial<ResolvedFileStoreOptions>;

/** `minCompactBytes` of a file store (object stores fold their segments from 1 MiB: each segment is a request on open). */
const DEFAULT_MIN_COMPACT_BYTES = 4 << 20;

/**
 * The options checked (unknown keys and bad values are a CheckpointArgumentError) and with
 * their defaults filled in. Call it on {@link withEnvironmentOptions} to take the environment's.
 */
export function resolvedOptions(options: FileStoreOptions): ResolvedFileStoreOptions {
  checkOptions(options, FILE_STORE_OPTIONS, 'a file store (JsonFileStore, YamlFileStore)');
  return {
    durability: options.durability ?? SHARED_DEFAULTS.durability,
    fsyncIntervalMs: options.fsyncIntervalMs ?? 1000,
    batchSize: options.batchSize ?? SHARED_DEFAULTS.batchSize,
    batchIntervalMs: options.batchIntervalMs ?? SHARED_DEFAULTS.batchIntervalMs,
    backups: options.backups ?? DEFAULT_BACKUPS,
    lock: options.lock ?? true,
    onCorrupt: options.onCorrupt ?? SHARED_DEFAULTS.onCorrupt,
    minCompactBytes: options.minCompactBytes ?? DEFAULT_MIN_COMPACT_BYTES,
    snapshotIntervalMs: options.snapshotIntervalMs ?? 30_000,
  };
}

/**
 * The options deployers tune in production without a change to the code, by environment
 * variable. The one table of variable → option: the docs and the tests are written from it.
 */
export const ENVIRONMENT_OPTIONS = {
  CHECKPOINTER_DURABILITY: 'durability',
  CHECKPOINTER_FSYNC_INTERVAL_MS: 'fsyncIntervalMs',
  CHECKPOINTER_BATCH_SIZE: 'batchSize',
  CHECKPOINTER_BATCH_INTERVAL_MS: 'batchIntervalMs',
  CHECKPOINTER_BACKUPS: 'backups',
  CHECKPOINTER_SNAPSHOT_INTERVAL_MS: 'snapshotIntervalMs',
} as const;

export type EnvironmentVariable = keyof typeof ENVIRONMENT_OPTIONS;
type TunedOption = (typeof ENVIRONMENT_OPTIONS)[EnvironmentVariable];

/** The options set by environment variables. */
export type EnvironmentOptions = Partial<Pick<FileStoreOptions, TunedOption>>;

/* Each variable follows the rule of its option, so that a value is refused or accepted exactly as in code. */
const ruleOf = (option: TunedOption): OptionRule => FILE_STORE_OPTIONS[option];

/** Numbers are read as written ("250", "0.5", "-1"); anything else stays text, for the rule to refuse. */
function readValue(option: TunedOption, text: string): string | number {
  if (option === 'durability') return text;
  return /^-?\d+(\.\d+)?$/.test(text) ? Number(text) : text;
}

function invalidVariable(variable: EnvironmentVariable, text: string, rule: OptionRule): CheckpointArgumentError {
  const near = rule.values ? closest(text, rule.values) : undefined;
  const hint = near === undefined ? '' : ` — did you mean '${near}'?`;
  return new CheckpointArgumentError(
    `Expected the environment variable ${variable} (the option \`${ENVIRONMENT_OPTIONS[variable]}\`) to be ${rule.expected}, got ${JSON.stringify(text)}${hint} — correct it or unset it`,
  );
}

/**
 * The options set in `env`, each checked by the rule of its option. An unset or empty variable
 * sets nothing; surrounding spaces are ignored.
 *
 * @throws CheckpointArgumentError naming the variable, its value and what it may be
 * @example environmentOptions({ CHECKPOINTER_DURABILITY: 'full' }) // { durability: 'full' }
 */
export function environmentOptions(env: NodeJS.ProcessEnv = process.env): EnvironmentOptions {
  const options: Record<string, string | number> = {};
  for (const [variable, option] of Object.entries(ENVIRONMENT_OPTIONS) as [EnvironmentVariable, TunedOption][]) {
    const text = env[variable]?.trim();
    if (text === undefined || text === '') continue;
    const value = readValue(option, text);
    const rule = ruleOf(option);
    if (rule.test(value, option) !== true) throw invalidVariable(variable, text, rule);
    options[option] = value;
  }
  return options as EnvironmentOptions;
}

/**
 * `options` over the environment's: an option given in code (not `undefined`) wins over its
 * variable. Every variable is checked; those of options the store does not take (`takes`: its
 * option rules; a bucket has no `backups`) are left out. Anything but a plain object is handed
 * back as it is, for the store's own check to refuse.
 */
export function withEnvironmentOptions<T extends object>(options: T, env: NodeJS.ProcessEnv = process.env, takes: OptionRules = FILE_STORE_OPTIONS): T {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) return options;
  const merged: Record<string, unknown> = {};
  for (const [option, value] of Object.entries(environmentOptions(env))) {
    if (Object.hasOwn(takes, option)) merged[option] = value;
  }
  for (const key in options) {
    if (options[key] !== undefined) merged[key] = options[key];
  }
  return merged as T;
}
