import type { ErrorLogEntry } from '../core/model.js';
import { showingBackup, type StepStatusReport } from './status-command.js';
import { lockState } from './lock-view.js';
import { describeCounts, describeError, describeLock, describeProgress, type WatchSnapshot } from './watch-frame.js';

/**
 * `watch` when standard output is not a terminal (a log file, a pipe): plain lines, each with
 * the time, written only when something changed, so that a log of a day-long run stays short.
 */

/** The counts of a step that make a new line worth writing (rate and ETA drift with the clock). */
function stepKey(step: StepStatusReport): string {
  return [step.total, step.completed, step.failed, step.deadLetter, step.pending, step.inProgress, step.interrupted].join(',');
}

const errorKey = (entry: ErrorLogEntry): string => JSON.stringify(entry);

/**
 * The lines for `current`, given the snapshot before it (null on the first look): the header
 * first, then each step whose counts changed, new errors, a changed lock.
 */
export function logLines(previous: WatchSnapshot | null, current: WatchSnapshot, now: number): string[] {
  const at = new Date(now).toISOString();
  const { report } = current;
  const lines: string[] = [];
  const lock = describeLock(report);
  if (!previous || previous.report.runId !== report.runId) {
    lines.push(`${at} watching ${report.location} (${report.format}): pipeline ${report.pipeline ?? '(not named)'}, run id ${report.runId}; lock: ${lock}`);
  } else if (describeLock(previous.report) !== lock) {
    lines.push(`${at} lock: ${lock}`);
  }
  if (report.loadedFrom && !previous?.report.loadedFrom) lines.push(`${at} damaged: ${showingBackup(report.loadedFrom)}`);
  for (const [name, step] of Object.entries(report.steps)) {
    const before = previous?.report.steps[name];
    if (before && stepKey(before) === stepKey(step)) continue;
    lines.push(`${at} ${name} ${describeProgress(step, 0).trimStart()}  ${describeCounts(step)}`);
  }
  lines.push(...newErrors(previous, current).map((entry) => `${at} error ${describeError(entry, 200)}`));
  return lines;
}

/** Errors logged since `previous`: those after the newest one it had (the log is capped, so compare entries, not counts). */
function newErrors(previous: WatchSnapshot | null, current: WatchSnapshot): ErrorLogEntry[] {
  const errors = current.recentErrors;
  if (!previous) return errors.slice(-1);
  const last = previous.recentErrors.at(-1);
  if (!last) return errors;
  const index = errors.map(errorKey).lastIndexOf(errorKey(last));
  return index === -1 ? errors : errors.slice(index + 1);
}

/** What decides whether the checkpoint changed between two looks. */
function changeKey(snapshot: WatchSnapshot): string {
  const { report } = snapshot;
  const steps = Object.entries(report.steps).map(([name, step]) => `${name}:${stepKey(step)}`);
  return JSON.stringify([report.runId, report.updatedAt, steps, report.errors.count, snapshot.recentErrors.at(-1) ?? null, describeLock(report)]);
}

/**
 * Whether a watch that is not on a terminal has seen the end: no live process holds the lock and
 * nothing changed since the look before. A database checkpoint has no lock to tell when its
 * workers are done, so its watch runs until it is stopped.
 */
export function runIsOver(previous: WatchSnapshot | null, current: WatchSnapshot): boolean {
  const state = lockState(current.report);
  if (state !== 'free' && state !== 'abandoned') return false;
  return previous !== null && changeKey(previous) === changeKey(current);
}
