/**
 * Every error checkpointer throws is a `CheckpointError` with a stable `code`, so callers can
 * branch on `error.code` without string matching, and a `location` when it is about one
 * checkpoint. Messages say which file, what is wrong and what to do next; they carry no
 * "[checkpointer]" prefix (a program that prints them may add its own).
 */
export type CheckpointErrorCode =
  | 'INVALID_ARGUMENT'
  | 'CHECKPOINT_CORRUPT'
  | 'CHECKPOINT_VERSION'
  | 'CHECKPOINT_LOCKED'
  | 'CHECKPOINT_LOCK_LOST'
  | 'CHECKPOINT_MISMATCH'
  | 'CHECKPOINT_CLOSED'
  | 'CHECKPOINT_STORE'
  | 'PIPELINE_STEP_FAILED'
  | 'VERIFY_FAILED'
  | 'ABORTED';

export class CheckpointError extends Error {
  readonly code: CheckpointErrorCode;
  /** The checkpoint (or the file of it) the error is about: a path, or a database location. */
  readonly location: string | undefined;

  constructor(code: CheckpointErrorCode, message: string, options?: { cause?: unknown; location?: string }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.name = new.target.name;
    this.location = options?.location;
  }
}

/** A value passed to the API is not what it should be (a programming error, not bad data). */
export class CheckpointArgumentError extends CheckpointError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
  }
}

/** One thing wrong inside a checkpoint document, e.g. `steps.enrich.completedItems[3]`. */
export interface CorruptionProblem {
  /** Where in the document, in JavaScript accessor notation; empty for the whole file. */
  readonly path: string;
  /** What was expected and what was found. */
  readonly message: string;
}

/**
 * A write of the checkpoint failed for good: the error every later mark gets too. `remedy` says
 * what to fix (default: the cause) before reopening.
 */
export function writeFailedError(location: string, what: string, error: unknown, remedy = 'fix the cause'): CheckpointStoreError {
  return new CheckpointStoreError(location, `${what}: ${(error as Error).message} — nothing after this mark is written; ${remedy} and reopen the checkpoint to resume from what was acknowledged`, { cause: error });
}

/** A problem as a person reads it: `path: message`, or `unreadable` when none was named. */
export function describeProblem(problem: CorruptionProblem | undefined): string {
  if (!problem) return 'unreadable';
  return problem.path ? `${problem.path}: ${problem.message}` : problem.message;
}

/** What a store says when `onCorrupt: 'restart'` started a damaged checkpoint over; `setAside` says what it kept and where. */
export function startedOverMessage(error: CheckpointCorruptError, setAside: string): string {
  return `${error.location} is damaged (${describeProblem(error.problems[0])}) and no backup can stand in for it; ${setAside} and started over (onCorrupt: 'restart')`;
}

/** A checkpoint file (or journal) cannot be read, and no good backup could replace it. */
export class CheckpointCorruptError extends CheckpointError {
  /** The damaged file (or journal line). */
  declare readonly location: string;
  readonly problems: readonly CorruptionProblem[];

  constructor(
    file: string,
    problems: readonly CorruptionProblem[],
    options?: { cause?: unknown; hint?: string },
  ) {
    const first = problems[0];
    const where = first && first.path ? `${first.path} ` : '';
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problems)` : '';
    const hint =
      options?.hint ??
      'restore a backup with "checkpoint-resume restore" or start over with { onCorrupt: \'restart\' }';
    super(
      'CHECKPOINT_CORRUPT',
      `${file}: ${where}${first?.message ?? 'unreadable'}${more} — ${hint}`,
      { cause: options?.cause, location: file },
    );
    this.problems = problems;
  }
}

/** The checkpoint was written by a newer format version than this library understands. */
export class CheckpointVersionError extends CheckpointError {
  declare readonly location: string;
  readonly version: number;

  constructor(file: string, version: number, supported: number) {
    super(
      'CHECKPOINT_VERSION',
      `${file}: format version ${version} is newer than this checkpointer supports (${supported}) — upgrade checkpointer to read it`,
      { location: file },
    );
    this.version = version;
  }
}

/** Another live process holds the checkpoint's lock. */
export class CheckpointLockedError extends CheckpointError {
  declare readonly location: string;
  readonly pid: number | undefined;
  readonly host: string | undefined;

  /** @param hint what to do (default: a file's — wait, stop it, or open with `{ lock: false }`) */
  constructor(file: string, holder: { pid?: number; host?: string }, hint = 'wait for it to finish, stop it, or open with { lock: false } for read-only use') {
    const who =
      holder.pid === undefined
        ? 'another process'
        : `process ${holder.pid}${holder.host ? ` on ${holder.host}` : ''}`;
    super('CHECKPOINT_LOCKED', `${file} is locked by ${who} — ${hint}`, { location: file });
    this.pid = holder.pid;
    this.host = holder.host;
  }
}

/** The lock was lost or taken over while open: this process must not write any more. */
export class CheckpointLockLostError extends CheckpointError {
  declare readonly location: string;

  constructor(file: string, options?: { cause?: unknown }) {
    super(
      'CHECKPOINT_LOCK_LOST',
      `${file}: the lock was lost or taken over by another process; refusing to write so that two writers never fork the checkpoint — reopen it to continue`,
      { cause: options?.cause, location: file },
    );
  }
}

export type MismatchKind = 'pipeline' | 'config' | 'steps';

/** The checkpoint belongs to another pipeline, configuration or step list. */
export class CheckpointMismatchError extends CheckpointError {
  readonly kind: MismatchKind;
  readonly expected: unknown;
  readonly actual: unknown;

  constructor(kind: MismatchKind, message: string, expected: unknown, actual: unknown, options?: { location?: string }) {
    super('CHECKPOINT_MISMATCH', message, options);
    this.kind = kind;
    this.expected = expected;
    this.actual = actual;
  }
}

/** A call was made after `close()` or `complete()`. */
export class CheckpointClosedError extends CheckpointError {
  declare readonly location: string;

  constructor(location: string) {
    super('CHECKPOINT_CLOSED', `${location}: the checkpoint is closed — open it again to use it`, { location });
  }
}

/** A store failed to read or write for a reason that is not corruption (permissions, disk full…). */
export class CheckpointStoreError extends CheckpointError {
  declare readonly location: string;

  constructor(location: string, message: string, options?: { cause?: unknown }) {
    super('CHECKPOINT_STORE', `${location}: ${message}`, { cause: options?.cause, location });
  }
}

/** A pipeline step threw; the checkpoint is kept so that the next run resumes at this step. */
export class PipelineStepError extends CheckpointError {
  readonly step: string;

  constructor(step: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super('PIPELINE_STEP_FAILED', `step "${step}" failed: ${reason} — run again to resume here`, {
      cause,
    });
    this.step = step;
  }
}

/**
 * The `verifyCompleted` check threw for a completed item while the checkpoint was opened. The
 * open fails (with nothing changed), since a check that cannot decide must not silently count an
 * output as good or redo it.
 */
export class CheckpointVerifyError extends CheckpointError {
  declare readonly location: string;
  readonly step: string;
  readonly key: string;

  constructor(location: string, step: string, key: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      'VERIFY_FAILED',
      `${location}: verifyCompleted threw for item ${describeKey(key)} of step "${step}": ${reason} — make the check return false for a missing or bad output instead of throwing, or fix its cause, and open again (nothing was changed)`,
      { cause, location },
    );
    this.step = step;
    this.key = key;
  }
}

/** An item key for a message: quoted, and cut short when it is long. */
export function describeKey(key: string): string {
  const quoted = JSON.stringify(key);
  return quoted.length > 80 ? `${quoted.slice(0, 77)}..."` : quoted;
}

/** Work stopped because of an AbortSignal or a SIGINT/SIGTERM; progress up to here is saved. */
export class CheckpointAbortError extends CheckpointError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ABORTED', message, options);
  }
}

/** Describes a value for an argument error, p-queue style: "`0` (number)". */
export function describeValue(value: unknown): string {
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  let shown: string;
  try {
    shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
  } catch {
    shown = type;
  }
  if (shown.length > 60) shown = `${shown.slice(0, 57)}...`;
  return `\`${shown}\` (${type})`;
}
