import { CheckpointArgumentError, describeValue } from '../core/errors.js';
import { Emitter, type CheckpointEvents, type Listener } from '../core/events.js';
import type { CheckpointState } from '../core/state.js';
import type { CheckpointStore } from '../stores/store.js';
import { loadState, storeForOptions, validateOptions } from './load-state.js';
import { logWarnings } from './log-warnings.js';
import type { CheckpointOptions } from './options.js';
import { prefixedLogger } from '../core/logger.js';

/** What a CheckpointManager is composed of, once opened. */
export interface CheckpointParts {
  store: CheckpointStore;
  state: CheckpointState;
  emitter: Emitter<CheckpointEvents>;
}

/**
 * Checks the options, picks the store, opens it and loads the state; interrupted items become
 * pending again (or dead letters, see `releaseInterrupted`). The emitter exists before the store
 * is opened, so that the listeners given in `options.on` also hear what happens while opening
 * (`recovered`, `warning`).
 */
export async function openParts(options: CheckpointOptions): Promise<CheckpointParts> {
  if (typeof options !== 'object' || options === null) {
    throw new CheckpointArgumentError(`Expected options to be an object, got ${describeValue(options)}`);
  }
  validateOptions(options);
  const store = storeForOptions(options);
  const logger = prefixedLogger(options.logger ?? console);
  const emitter = new Emitter<CheckpointEvents>((error) => logger.error('an event listener threw', error));
  logWarnings(emitter, logger);
  for (const [event, listener] of Object.entries(options.on ?? {})) {
    if (listener) emitter.on(event as 'warning', listener as Listener<CheckpointEvents['warning']>);
  }
  const state = await loadState(store, options, (current) => ({
    snapshot: () => current().toDocument(),
    emit: (event, payload) => emitter.emit(event, payload as never),
  }));
  state.releaseInterrupted(options.maxAttempts ?? Infinity);
  return { store, state, emitter };
}
