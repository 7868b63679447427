import { confirmResume } from '../flags/confirm-resume.js';
import { CheckpointManager } from '../manager/checkpoint-manager.js';
import { storeForOptions } from '../manager/load-state.js';
import { FILE_STORE_OPTIONS } from '../stores/file/file-store-options.js';
import type { CheckpointOptions } from '../manager/options.js';
import { MemoryStore } from '../stores/memory-store.js';
import type { CheckpointStore } from '../stores/store.js';
import { DryRunStore } from './dry-run-store.js';
import type { PipelineOptions, RunOptions } from './run-options.js';
import { SaveTolerantStore, type SaveOperation } from './save-tolerant-store.js';

export interface OpenedCheckpoint {
  checkpoint: CheckpointManager;
  /** False with `resume: false` (and a forced dry run): the checkpoint lives in memory only. */
  persistent: boolean;
}

/**
 * Opens the checkpoint one `run()` works on:
 * - `resume: false` → an in-memory checkpoint; the file is neither read nor written;
 * - `force` → the saved checkpoint is deleted first, whatever it holds;
 * - `dryRun` → the checkpoint is read and released, and nothing is written;
 * - otherwise the saved checkpoint, with failed writes reported to `onSaveFailure` unless
 *   `onSaveError: 'throw'`; with `prompt`, the user is asked first whether to resume it (the
 *   lock is held meanwhile, so nobody changes it under the question), and "start over" opens
 *   it again as with `force`.
 */
export async function openCheckpoint(
  pipeline: string,
  options: PipelineOptions,
  run: RunOptions,
  onSaveFailure: (error: unknown, operation: SaveOperation) => void,
): Promise<OpenedCheckpoint> {
  const { path: _path, store: _store, onSaveError, ...given } = options;
  // The file-store options went into the store built from `path`; the manager takes the rest.
  const rest = Object.fromEntries(Object.entries(given).filter(([key]) => !(key in FILE_STORE_OPTIONS))) as typeof given;
  const open = (store: CheckpointStore, extra: Partial<CheckpointOptions> = {}): Promise<CheckpointManager> =>
    CheckpointManager.open({ ...rest, ...extra, store, pipeline });
  const inMemory = run.resume === false || (run.force === true && run.dryRun === true);
  if (inMemory) {
    return { checkpoint: await open(new MemoryStore({ name: pipeline }), { keepOnComplete: false }), persistent: false };
  }
  if (run.force) await discard(options);
  const store = options.store ?? storeForOptions(options);
  if (run.dryRun) {
    return { checkpoint: await open(new DryRunStore(store, options.maxErrors), { keepOnComplete: false }), persistent: true };
  }
  const tolerant = onSaveError === 'throw' ? store : new SaveTolerantStore(store, onSaveFailure);
  const checkpoint = await open(tolerant);
  // After `force` there is nothing to ask about: the checkpoint was just made.
  if (!run.prompt || run.force) return { checkpoint, persistent: true };
  let answer;
  try {
    answer = await confirmResume(checkpoint, run.prompt === 'auto' ? undefined : run.prompt);
  } catch (error) {
    await checkpoint.close();
    throw error;
  }
  if (answer === 'resume') return { checkpoint, persistent: true };
  await checkpoint.close();
  return openCheckpoint(pipeline, options, { ...run, force: true, prompt: false }, onSaveFailure);
}

/**
 * Deletes the saved checkpoint for `force`. It is opened without the pipeline name or config,
 * so that a checkpoint of another pipeline or config is discarded rather than refused; a file
 * checkpoint is opened with `onCorrupt: 'restart'`, which moves a damaged file aside.
 */
async function discard(options: PipelineOptions): Promise<void> {
  const store = options.store ?? storeForOptions({ ...options, onCorrupt: 'restart' });
  const { logger, maxErrors } = options;
  const old = await CheckpointManager.open({ store, keepOnComplete: false, ...(logger ? { logger } : {}), ...(maxErrors ? { maxErrors } : {}) });
  await old.complete({ force: true });
}
