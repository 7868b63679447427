import type { AbortSignalLike } from '../core/platform-types.js';
import type { CheckpointEvents } from '../core/events.js';
import type { JsonValue } from '../core/json.js';
import type { CheckpointStore } from '../stores/store.js';
import type { FileStoreOptions } from '../stores/file/file-store-options.js';
import type { VerifyCompletedOption } from './verify-completed.js';

import type { Logger } from '../core/logger.js';

export type { Logger };

/** What to do when the checkpoint was written with a different `config`. */
export type ConfigChangePolicy = 'reject' | 'restart' | 'accept';

/**
 * The options of `CheckpointManager.open`. Each given option is checked before anything is
 * opened or created: a value of the wrong type or out of range, an enumeration in the wrong
 * case (`'Full'`) or an unknown key (`durabilty`, with "did you mean `durability`?") is a
 * CheckpointArgumentError. An option whose value is `undefined` counts as not given.
 */
export interface CheckpointOptions extends FileStoreOptions {
  /**
   * The checkpoint file: `.json` opens a JsonFileStore, `.yaml`/`.yml` a YamlFileStore.
   * Give either `path` or `store`.
   * @example 'input_data/pipeline_checkpoint.json'
   */
  path?: string;
  /**
   * Any CheckpointStore: MemoryStore, a file store with its own options, PostgresStore, yours.
   * It must have a string `location` and the six methods. The file-store options (`durability`,
   * `backups`, …) apply only with `path`: give them to the store you pass instead.
   */
  store?: CheckpointStore;
  /**
   * The pipeline this checkpoint belongs to. Opening a checkpoint of another pipeline fails with
   * CheckpointMismatchError instead of skipping the wrong items.
   */
  pipeline?: string;
  /**
   * The run's configuration. It is saved with the checkpoint and fingerprinted; see
   * `onConfigChange` for what happens when it differs on resume.
   */
  config?: JsonValue;
  /**
   * `reject` fails with CheckpointMismatchError; `restart` starts over (the old checkpoint is kept
   * as a backup); `accept` keeps the progress and records the new config.
   * @default 'reject'
   */
  onConfigChange?: ConfigChangePolicy;
  /**
   * Whether failed items are handed out again on resume (by `pendingItems` and `forEach`).
   * @default true
   */
  retryFailed?: boolean;
  /**
   * After this many attempts (counted across runs, including runs killed mid-item) an item that
   * still fails becomes a dead letter: it is not retried until `retryFailedItems()` resets it.
   * @default Infinity
   */
  maxAttempts?: number;
  /**
   * How many entries the error log keeps (oldest dropped first).
   * @default 100
   */
  maxErrors?: number;
  /**
   * Derives an item's key; by default strings are their own key and other JSON values are keyed
   * by their canonical JSON (see `itemKey`). A finite number it returns is keyed by its decimal
   * string, so numeric ids work as they are (`5` and `"5"` are one item).
   * @example { itemKey: (doc) => doc.id }
   */
  itemKey?(item: never): string | number;
  /**
   * Checks, when the checkpoint is opened, that each completed item's output is still there (a
   * file deleted or left empty since): an item the check answers `false` for becomes pending
   * again, written to the checkpoint at once so that a crash keeps it so, and a `warning` per
   * step says how many (with `unverified` on the event). One function checks every step; an
   * object `{ [step]: check }` checks only the steps it names. It runs once per completed item
   * of a checked step on every open — a million completed items are a million calls — with at
   * most 16 async checks at a time. A check that throws fails the open with
   * CheckpointVerifyError, changing nothing.
   * @example { verifyCompleted: { render: (key) => (statSync(`out/${key}.png`, { throwIfNoEntry: false })?.size ?? 0) > 0 } }
   */
  verifyCompleted?: VerifyCompletedOption;
  /** Default AbortSignal for work run through this checkpoint (`forEach`). */
  signal?: AbortSignalLike;
  /**
   * Where warnings (recovery from a backup, a failed save) are written.
   * @default console
   */
  logger?: Logger;
  /**
   * Keep the checkpoint after `complete()` instead of deleting it.
   * @default false
   */
  keepOnComplete?: boolean;
  /**
   * Event listeners registered before the checkpoint is opened, so that they also hear what
   * happens during `open()` — above all `recovered`, when a damaged file was replaced by a backup.
   * @example { on: { recovered: (event) => alert(`restored from ${event.from}`) } }
   */
  on?: { [E in keyof CheckpointEvents]?: (payload: CheckpointEvents[E]) => void };
}
