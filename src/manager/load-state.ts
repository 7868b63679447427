import { randomUUID } from 'node:crypto';
import { CheckpointArgumentError, CheckpointMismatchError, CheckpointStoreError, describeValue } from '../core/errors.js';
import { fingerprint } from '../core/item-key.js';
import type { CheckpointEvents } from '../core/events.js';
import type { CheckpointChange } from '../core/model.js';
import { CheckpointState } from '../core/state.js';
import { checkOptions, pickOptions, rejectOptionsWith, rules, type OptionRule, type OptionRules } from '../core/validate-options.js';
import type { CheckpointStore, LoadedCheckpoint, StoreSession } from '../stores/store.js';
import { isJsonObject } from '../core/json.js';
import { fileStoreFor } from '../stores/file/file-store.js';
import { FILE_STORE_OPTIONS } from '../stores/file/file-store-options.js';
import { bucketPathRules, isUrl, objectStoreForUrl } from '../stores/object/stores-by-scheme.js';
import type { CheckpointOptions } from './options.js';
import { describeConfigChange } from './config-diff.js';
import { verifyCompletedRule } from './verify-completed.js';

/** Picks the store for `options.path`: by its URL scheme, or by its extension. */
export function storeForOptions(options: CheckpointOptions): CheckpointStore {
  if (options.store) {
    if (options.path !== undefined) throw new CheckpointArgumentError('Expected either `path` or `store`, got both');
    return options.store;
  }
  const path = options.path;
  if (typeof path !== 'string' || path === '') {
    throw new CheckpointArgumentError(`Expected \`path\` to be a file path or \`store\` to be a CheckpointStore, got ${describeValue(path)}`);
  }
  // `az://…` and the other object-storage URLs: their table is in stores-by-scheme.ts.
  if (isUrl(path)) return objectStoreForUrl(path, options as Record<string, unknown>);
  // Only the file-store options: the store refuses keys it does not know.
  const fileOptions = pickOptions(options, FILE_STORE_OPTIONS);
  const store = fileStoreFor(path, fileOptions);
  if (store) return store;
  throw new CheckpointArgumentError(`Expected \`path\` to end in .json, .yaml or .yml, got ${describeValue(path)} — or pass \`store\``);
}

/** Every option of `CheckpointManager.open` with its rule (the file-store ones included). */
export const CHECKPOINT_OPTIONS = {
  ...FILE_STORE_OPTIONS,
  path: rules.nonEmptyString,
  store: rules.store,
  pipeline: rules.nonEmptyString,
  config: rules.json,
  onConfigChange: rules.oneOf('reject', 'restart', 'accept'),
  retryFailed: rules.boolean,
  maxAttempts: rules.number({ min: 1, infinity: true }),
  maxErrors: rules.number({ min: 1 }),
  itemKey: rules.function,
  signal: rules.abortSignal,
  logger: rules.logger,
  keepOnComplete: rules.boolean,
  verifyCompleted: verifyCompletedRule,
  on: rules.object({
    item: rules.function,
    stage: rules.function,
    flush: rules.function,
    recovered: rules.function,
    warning: rules.function,
  } satisfies Record<keyof CheckpointEvents, OptionRule>),
} as const satisfies Record<keyof CheckpointOptions, OptionRule>;

/**
 * File-store options beside a `store` would be ignored (the store has its own), so they are an
 * error where the user gives options. Not in `validateOptions`: a Pipeline hands the options it
 * was given with `path` on to `CheckpointManager.open` beside the store it made from them.
 */
export function rejectFileStoreOptionsWithStore(options: Record<string, unknown>): void {
  rejectOptionsWith(options, 'store', Object.keys(FILE_STORE_OPTIONS), 'pass them to the store, e.g. new JsonFileStore(path, { durability }), or give `path` instead of `store`');
}

/**
 * Checks `options` against `optionRules` (those of `CheckpointManager.open`, or a Pipeline's),
 * and with a bucket URL for `path` only against what a URL takes.
 */
export function checkCheckpointOptions(options: unknown, optionRules: OptionRules, subject: string): void {
  const path = typeof options === 'object' && options !== null ? (options as { path?: unknown }).path : undefined;
  const urlRules = typeof path === 'string' && isUrl(path) ? bucketPathRules(path, options as Record<string, unknown>, optionRules) : optionRules;
  checkOptions(options, urlRules, subject);
}

/** Checks every option of `CheckpointManager.open` before anything is opened or created. */
export function validateOptions(options: unknown): asserts options is CheckpointOptions {
  checkCheckpointOptions(options, CHECKPOINT_OPTIONS, 'CheckpointManager.open');
  // With `store`, file-store options would be silently ignored: a store takes its own.
  if ((options as CheckpointOptions).store !== undefined) rejectFileStoreOptionsWithStore(options as Record<string, unknown>);
}

function freshState(options: CheckpointOptions): CheckpointState {
  const now = new Date().toISOString();
  return new CheckpointState(
    {
      ...(options.pipeline === undefined ? {} : { pipeline: options.pipeline }),
      runId: randomUUID(),
      createdAt: now,
      updatedAt: now,
      ...(options.config === undefined ? {} : { config: options.config, configFingerprint: fingerprint(options.config) }),
    },
    options.maxErrors,
  );
}

/**
 * Opens `store` and builds the in-memory state: the saved document plus its changes, checked
 * against the pipeline name and config. A new checkpoint is saved at once, so that its run id
 * and config are on disk before any item is marked.
 */
export async function loadState(
  store: CheckpointStore,
  options: CheckpointOptions,
  session: (state: () => CheckpointState) => StoreSession,
): Promise<CheckpointState> {
  let state: CheckpointState | undefined;
  const loaded = await store.open(session(() => state!));
  try {
    if (!loaded) {
      state = freshState(options);
      await store.save(state.toDocument());
      return state;
    }
    assertLoaded(loaded, store.location);
    const loadedState = CheckpointState.fromDocument(loaded.document, options.maxErrors);
    state = loadedState;
    for (const change of loaded.changes) loadedState.apply(change);
    const saved = loadedState.metadata;
    if (options.pipeline !== undefined && saved.pipeline !== undefined && saved.pipeline !== options.pipeline) {
      throw new CheckpointMismatchError(
        'pipeline',
        `${store.location} belongs to pipeline "${saved.pipeline}", not "${options.pipeline}" — use another path, or delete it to start over`,
        options.pipeline,
        saved.pipeline,
        { location: store.location },
      );
    }
    const change = reconcileConfig(loadedState, options, store.location);
    if (change === 'restart') {
      state = freshState(options);
      await store.save(state.toDocument());
    } else if (change) {
      loadedState.apply(change);
      await store.append(change);
    }
    return state;
  } catch (error) {
    // A store of someone else's may close synchronously, or throw: its own failure must not hide this one.
    await (async () => store.close())().catch(() => {});
    throw error;
  }
}

/**
 * A store's `open()` hands back a document and its changes: checked for their shape here (the
 * store validated the content, see `parseDocument`), so that a broken store is a typed error.
 */
function assertLoaded(loaded: unknown, location: string): asserts loaded is LoadedCheckpoint {
  const document = isJsonObject(loaded) ? loaded.document : undefined;
  const changes = isJsonObject(loaded) ? (loaded as { changes?: unknown }).changes : undefined;
  const iterable = typeof changes === 'object' && changes !== null && Symbol.iterator in changes;
  if (isJsonObject(document) && isJsonObject(document.metadata) && isJsonObject(document.steps) && iterable) return;
  throw new CheckpointStoreError(location, `the store's open() resolved ${describeValue(loaded)}, not a checkpoint ({ document, changes }, or undefined when there is none) — check the store's open()`);
}

/** Decides what a (possibly) changed config means for a loaded checkpoint. */
function reconcileConfig(state: CheckpointState, options: CheckpointOptions, location: string): CheckpointChange | 'restart' | undefined {
  const saved = state.metadata;
  const missingPipeline = options.pipeline !== undefined && saved.pipeline === undefined;
  if (options.config === undefined) {
    return missingPipeline ? { op: 'metadata', metadata: { ...saved, pipeline: options.pipeline! } } : undefined;
  }
  const print = fingerprint(options.config);
  if (saved.configFingerprint !== undefined && saved.configFingerprint !== print) {
    const policy = options.onConfigChange ?? 'reject';
    if (policy === 'reject') {
      // The keys that differ tell the user what changed; the fingerprints only that something did.
      const changed = describeConfigChange(saved.config, options.config) ?? `${saved.configFingerprint.slice(0, 19)}…, now ${print.slice(0, 19)}…`;
      throw new CheckpointMismatchError(
        'config',
        `${location} was written with a different config (${changed}) — pass { onConfigChange: 'accept' } to keep its progress, 'restart' to start over, or use another path`,
        options.config,
        saved.config,
        { location },
      );
    }
    if (policy === 'restart') return 'restart';
  } else if (saved.configFingerprint === print && !missingPipeline) {
    return undefined;
  }
  return {
    op: 'metadata',
    metadata: { ...saved, ...(options.pipeline === undefined ? {} : { pipeline: options.pipeline }), config: options.config, configFingerprint: print },
  };
}
