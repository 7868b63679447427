import { CheckpointCorruptError } from '../core/errors.js';
import { CheckpointState } from '../core/state.js';
import { CheckpointManager } from '../manager/checkpoint-manager.js';
import type { Logger } from '../manager/options.js';
import { CliError } from './cli-error.js';
import { readCheckpoint, type CheckpointOnDisk } from '../stores/file/read-checkpoint.js';

/**
 * A `<file>` argument that is a database URL. The CLI works on file checkpoints today; a store
 * that lives elsewhere plugs in here, in `loadForReading` and `openForWriting`, and every command
 * follows.
 */
const DATABASE_URL = /^postgres(ql)?:\/\//i;

export function assertFileTarget(target: string): void {
  if (DATABASE_URL.test(target)) {
    throw new CliError(`${redact(target)}: the CLI reads JSON and YAML checkpoint files; database checkpoints are not supported by this version`, 2);
  }
}

/** A URL without its password, for messages. */
export function redact(target: string): string {
  return target.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

/** A checkpoint loaded for a read-only command: what is on disk, and the state it adds up to. */
export interface CheckpointView {
  location: string;
  onDisk: CheckpointOnDisk;
  state: CheckpointState;
}

/** Loads a checkpoint without writing or locking, so it works while its pipeline runs. */
export async function loadForReading(target: string): Promise<CheckpointView> {
  assertFileTarget(target);
  const onDisk = await readCheckpoint(target);
  if (!onDisk) throw new CliError(`${target}: no checkpoint here (no such file) — check the path; a pipeline creates it on its first run`);
  const state = CheckpointState.fromDocument(onDisk.document, Math.max(100, onDisk.document.errors.length));
  for (const change of onDisk.changes) state.apply(change);
  return { location: target, onDisk, state };
}

/**
 * Opens a checkpoint to change it, holding its lock like a pipeline does: a live holder gives
 * CheckpointLockedError, and nothing is written. A damaged checkpoint is refused rather than
 * silently repaired from a backup, so that the person decides with `validate` and `restore`.
 */
export async function openForWriting(target: string, logger: Logger): Promise<CheckpointManager> {
  const { onDisk } = await loadForReading(target);
  if (onDisk.damage) {
    throw new CheckpointCorruptError(target, onDisk.damage.problems, {
      hint: `a good backup exists (${onDisk.snapshotFile}): see "checkpointer backups ${target}", then "checkpointer restore ${target} --backup N"`,
    });
  }
  return CheckpointManager.open({ path: target, lock: true, logger });
}
