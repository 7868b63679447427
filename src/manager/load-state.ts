import { randomUUID } from 'node:crypto';
import { CheckpointArgumentError, CheckpointMismatchError, describeValue } from '../core/errors.js';
import { fingerprint } from '../core/item-key.js';
import { assertJson } from '../core/json.js';
import type { CheckpointChange } from '../core/model.js';
import { CheckpointState } from '../core/state.js';
import type { CheckpointStore, StoreSession } from '../stores/store.js';
import { JsonFileStore } from '../stores/file/json-file-store.js';
import { YamlFileStore } from '../stores/file/yaml-file-store.js';
import type { CheckpointOptions } from './options.js';

/** Picks the store for `options.path` by its extension. */
export function storeForOptions(options: CheckpointOptions): CheckpointStore {
  if (options.store) {
    if (options.path !== undefined) throw new CheckpointArgumentError('Expected either `path` or `store`, got both');
    return options.store;
  }
  const path = options.path;
  if (typeof path !== 'string' || path === '') {
    throw new CheckpointArgumentError(`Expected \`path\` to be a file path or \`store\` to be a CheckpointStore, got ${describeValue(path)}`);
  }
  if (/\.json$/i.test(path)) return new JsonFileStore(path, options);
  if (/\.ya?ml$/i.test(path)) return new YamlFileStore(path, options);
  throw new CheckpointArgumentError(`Expected \`path\` to end in .json, .yaml or .yml, got ${describeValue(path)} — or pass \`store\``);
}

export function validateOptions(options: CheckpointOptions): void {
  const positive = (name: 'maxAttempts' | 'maxErrors', allowInfinity: boolean): void => {
    const value = options[name];
    if (value === undefined) return;
    const ok = typeof value === 'number' && value >= 1 && (Number.isInteger(value) || (allowInfinity && value === Infinity));
    if (!ok) throw new CheckpointArgumentError(`Expected \`${name}\` to be a positive integer, got ${describeValue(value)}`);
  };
  positive('maxAttempts', true);
  positive('maxErrors', false);
  const policies = ['reject', 'restart', 'accept'];
  if (options.onConfigChange !== undefined && !policies.includes(options.onConfigChange)) {
    throw new CheckpointArgumentError(`Expected \`onConfigChange\` to be one of ${policies.join(', ')}, got ${describeValue(options.onConfigChange)}`);
  }
  if (options.config !== undefined) assertJson(options.config, 'config');
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
    await store.close().catch(() => {});
    throw error;
  }
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
      throw new CheckpointMismatchError(
        'config',
        `${location} was written with a different config (${saved.configFingerprint.slice(0, 19)}…, now ${print.slice(0, 19)}…) — pass { onConfigChange: 'accept' } to keep its progress, 'restart' to start over, or use another path`,
        options.config,
        saved.config,
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
