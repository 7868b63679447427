import { CheckpointCorruptError } from '../core/errors.js';
import { CheckpointState } from '../core/state.js';
import { CheckpointManager } from '../manager/checkpoint-manager.js';
import type { Logger } from '../manager/options.js';
import { CliError, NoCheckpointError } from './cli-error.js';
import { ExitCode } from './exit-codes.js';
import { readCheckpoint, snapshotFormatFor, type CheckpointOnDisk } from '../stores/file/read-checkpoint.js';
import { openDatabase, readDatabase, redact, type DatabaseTarget } from './postgres-target.js';
import { fileLockView, type LockView } from './lock-view.js';
import { isBucketUrl } from '../stores/object/stores-by-scheme.js';
import { damageOf, parseUrlArgument, readObjectTarget, type ObjectTarget } from './object-target.js';

const DATABASE_URL = /^postgres(ql)?:\/\//i;

/** The options every command takes to name a checkpoint in a database. */
export interface DatabaseFlags {
  pipeline?: string;
  schema?: string;
  runId?: string;
}

/** What a command works on: a checkpoint file, one in a bucket, or one in a database. */
export type CheckpointTarget = { kind: 'file'; path: string } | ObjectTarget | DatabaseTarget;

export const isDatabaseUrl = (argument: string): boolean => DATABASE_URL.test(argument);

/** Reads the `<checkpoint>` argument with its database flags; a wrong combination is a usage error. */
export function targetOf(argument: string, flags: DatabaseFlags): CheckpointTarget {
  if (isDatabaseUrl(argument)) {
    if (flags.pipeline === undefined) {
      throw new CliError(
        `${redact(argument)}: a PostgreSQL checkpoint is named by its pipeline — add --pipeline NAME (and --run-id, --schema if it has them); "checkpoint-resume list ${redact(argument)}" shows the checkpoints there`,
        ExitCode.usage,
      );
    }
    return { kind: 'postgres', connectionString: argument, pipeline: flags.pipeline, runId: flags.runId, schema: flags.schema };
  }
  const given = (['pipeline', 'runId', 'schema'] as const).filter((flag) => flags[flag] !== undefined);
  const object = isBucketUrl(argument);
  if (given.length > 0) {
    const names = given.map((flag) => `--${flag === 'runId' ? 'run-id' : flag}`).join(', ');
    throw new CliError(`${names}: only for a postgres:// checkpoint; ${argument} is ${object ? 'in a bucket' : 'a file'}`, ExitCode.usage);
  }
  if (object) {
    parseUrlArgument(argument);
    return { kind: 'object', url: argument };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(argument)) {
    throw new CliError(`${argument}: not a checkpoint this command can read — give a file path, an az://, s3:// or gs:// URL, or a postgres:// URL with --pipeline`, ExitCode.usage);
  }
  return { kind: 'file', path: argument };
}

/** Refuses a database or bucket checkpoint for a command that works on files only. */
export function fileOnly(target: CheckpointTarget, command: string, why: string): string {
  if (target.kind === 'file') return target.path;
  throw new CliError(`${command}: ${why}`, ExitCode.usage);
}

/** A checkpoint loaded for a read-only command: the state it adds up to, and where it came from. */
export interface CheckpointView {
  /** The path or bucket URL as given, or the database URL without its password plus schema/pipeline/run. */
  location: string;
  /** 'JSON', 'YAML' or 'PostgreSQL'. */
  format: string;
  /** For a file checkpoint: the snapshot and journal as they are on disk; null otherwise. */
  onDisk: CheckpointOnDisk | null;
  state: CheckpointState;
  /** Who holds the lock (a file's) or the lease (a bucket's); null when nobody does, and in a database. */
  lock: LockView | null;
  /** What was damaged when a backup stood in for the checkpoint, and that backup; null otherwise. */
  damage: CheckpointCorruptError | null;
  loadedFrom: string | null;
}

/**
 * Loads a checkpoint without writing or locking, so it works while its pipeline runs. In a
 * database no tables are created: a schema where nothing was saved has no checkpoint.
 */
export async function loadForReading(target: CheckpointTarget): Promise<CheckpointView> {
  if (target.kind === 'postgres') {
    const { location, document } = await readDatabase(target);
    const state = CheckpointState.fromDocument(document, Math.max(100, document.errors.length));
    return { location, format: 'PostgreSQL', onDisk: null, state, lock: null, damage: null, loadedFrom: null };
  }
  if (target.kind === 'object') {
    const { read, state, format, lock } = await readObjectTarget(target);
    return { location: target.url, format, onDisk: null, state, lock, damage: damageOf(read, target.url), loadedFrom: read.recovered?.from ?? null };
  }
  const path = target.path;
  const onDisk = await readCheckpoint(path);
  if (!onDisk) throw new NoCheckpointError(`${path}: no checkpoint here (no such file) — check the path; a pipeline creates it on its first run`);
  const state = CheckpointState.fromDocument(onDisk.document, Math.max(100, onDisk.document.errors.length));
  for (const change of onDisk.changes) state.apply(change);
  const damage = onDisk.damage ?? null;
  return { location: path, format: snapshotFormatFor(path).name, onDisk, state, lock: fileLockView(path), damage, loadedFrom: damage ? onDisk.snapshotFile : null };
}

/**
 * Opens a checkpoint to change it. A file is held under its lock like a pipeline does: a live
 * holder gives CheckpointLockedError, and nothing is written. A damaged checkpoint is refused
 * rather than silently repaired from a backup, so that the person decides with `validate` and
 * `restore`. A database checkpoint must exist already (opening would create it otherwise).
 */
export async function openForWriting(target: CheckpointTarget, logger: Logger): Promise<CheckpointManager> {
  if (target.kind === 'postgres') return openDatabase(target, logger);
  const { damage, loadedFrom } = await loadForReading(target);
  if (target.kind === 'object') {
    if (damage) {
      throw new CheckpointCorruptError(target.url, damage.problems, {
        hint: `its backup ${loadedFrom} is good: a pipeline that opens the checkpoint recovers from it and says what was lost; download the objects first to keep the damaged snapshot`,
      });
    }
    return CheckpointManager.open({ path: target.url, logger });
  }
  const path = target.path;
  if (damage) {
    throw new CheckpointCorruptError(path, damage.problems, {
      hint: `a good backup exists (${loadedFrom}): see "checkpoint-resume backups ${path}", then "checkpoint-resume restore ${path} --backup N"`,
    });
  }
  return CheckpointManager.open({ path, lock: true, logger });
}
