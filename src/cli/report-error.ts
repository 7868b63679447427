import { CheckpointArgumentError, CheckpointError, CheckpointLockedError } from '../core/errors.js';
import { isBucketUrl } from '../stores/object/stores-by-scheme.js';
import { ExitCode } from './exit-codes.js';
import type { Output } from './output.js';
import { CliError } from './cli-error.js';

/** An operating-system error (ENOENT, EACCES, ENOSPC…): the user's environment, not a bug. */
function isSystemError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string' && typeof (error as NodeJS.ErrnoException).syscall === 'string';
}

/**
 * Prints an error for a person and picks the exit code. Errors about the checkpoint or the
 * command line are the user's to fix: a message, no stack trace. Anything else is a bug in
 * checkpointer: the message, and how to report it (`CHECKPOINTER_DEBUG=1` shows the stack).
 */
export function reportError(error: unknown, out: Output, env: NodeJS.ProcessEnv = process.env): number {
  const label = out.style.red('error');
  if (error instanceof CliError) {
    out.error(`${label}: ${error.message}`);
    return error.exitCode;
  }
  if (error instanceof CheckpointLockedError) {
    const who = error.pid === undefined ? 'another process' : `process ${error.pid}${error.host ? ` on ${error.host}` : ''}`;
    // A bucket keeps one backup object and has no `backups` command; a file checkpoint's backups can be listed meanwhile.
    const readers = isBucketUrl(error.location) ? 'status, inspect and validate' : 'status, inspect, validate and backups';
    out.error(`${label}: ${error.location} is locked by ${who}, so nothing was changed — wait for the run to finish or stop it, then try again (${readers} work meanwhile)`);
    return ExitCode.locked;
  }
  if (error instanceof CheckpointArgumentError) {
    out.error(`${label}: ${error.message}`);
    return ExitCode.usage;
  }
  if (error instanceof CheckpointError) {
    out.error(`${label}: ${error.message}`);
    return ExitCode.failed;
  }
  if (isSystemError(error)) {
    out.error(`${label}: ${error.message}`);
    return ExitCode.failed;
  }
  const message = error instanceof Error ? error.message : String(error);
  out.error(`${label}: unexpected error: ${message}`);
  if (env.CHECKPOINTER_DEBUG && error instanceof Error && error.stack) out.error(error.stack);
  else out.error('This is a bug in checkpointer. Please report it with the command you ran and this message (set CHECKPOINTER_DEBUG=1 to include the stack trace).');
  return ExitCode.internal;
}
