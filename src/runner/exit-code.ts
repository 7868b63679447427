import type { CheckpointAbortError } from '../core/errors.js';
import { LOG_PREFIX } from '../core/logger.js';

/** The exit code of a run interrupted by SIGINT/SIGTERM that can be resumed: EX_TEMPFAIL from sysexits.h. */
export const EXIT_RESUMABLE = 75;

const resumable = new WeakSet<object>();
let monitoring = false;

/**
 * Marks `error` as "interrupted by a signal, progress saved". Two things follow:
 * - `process.exitCode` becomes 75 unless the program already set one, so a program that catches
 *   the error and returns still tells its caller (a shell, a scheduler) that it did not finish;
 *   set `process.exitCode = 0` after catching if that is what you want.
 * - if the error is never caught (an unhandled rejection or uncaught exception, even wrapped as
 *   the `cause` of another error), its message — which says how to resume — is printed and the
 *   process exits with 75 instead of Node's 1 with a stack trace. A program with its own
 *   `uncaughtException` listener decides for itself.
 */
export function markResumable(error: CheckpointAbortError): void {
  resumable.add(error);
  if (!process.exitCode) process.exitCode = EXIT_RESUMABLE;
  if (monitoring) return;
  monitoring = true;
  // A monitor only observes: unlike an `unhandledRejection` listener it changes nothing about
  // how every other error of the program is handled.
  process.on('uncaughtExceptionMonitor', onFatalError);
}

function onFatalError(error: unknown): void {
  const interrupted = findResumable(error);
  if (!interrupted || process.listenerCount('uncaughtException') > 0) return;
  process.stderr.write(`${LOG_PREFIX} ${interrupted.message}\n`);
  process.exit(EXIT_RESUMABLE);
}

function findResumable(error: unknown): Error | undefined {
  for (let depth = 0; depth < 8 && typeof error === 'object' && error !== null; depth++) {
    if (resumable.has(error)) return error as Error;
    error = (error as { cause?: unknown }).cause;
  }
  return undefined;
}
