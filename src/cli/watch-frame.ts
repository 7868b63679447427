import type { ErrorLogEntry } from '../core/model.js';
import { formatBar, formatDuration as formatEta, formatRate } from '../progress/format-progress.js';
import { formatDuration, truncate } from './human.js';
import { isBucketUrl } from '../stores/object/stores-by-scheme.js';
import { lockState, whyLeft } from './lock-view.js';
import { visibleLength, type Style } from './output.js';
import { buildStatus, showingBackup, type StatusReport, type StepStatusReport } from './status-command.js';
import type { CheckpointView } from './target.js';

/** How many of the newest errors a frame lists. */
export const ERRORS_SHOWN = 3;

/** What one refresh of `watch` read: the status report plus the newest errors of the log. */
export interface WatchSnapshot {
  report: StatusReport;
  /** The newest errors, oldest first (at most the log's length). */
  recentErrors: ErrorLogEntry[];
}

export function watchSnapshot(view: CheckpointView, now: number): WatchSnapshot {
  return { report: buildStatus(view, now), recentErrors: view.state.errors.slice(-ERRORS_SHOWN) };
}

export function describeHolder(report: StatusReport): string {
  const lock = report.lock;
  if (!lock) return 'nobody';
  return `${lock.pid === null ? 'a process' : `process ${lock.pid}`}${lock.host ? ` on ${lock.host}` : ''}`;
}

/** The lock line of a frame and of the log: what a person needs to know about the run. */
export function describeLock(report: StatusReport): string {
  switch (lockState(report)) {
    case 'running':
      return `held by ${describeHolder(report)} (a run is in progress)`;
    case 'free':
      return 'no run holds the lock: the run is over (or has not started)';
    case 'abandoned':
      return isBucketUrl(report.location)
        ? `left by ${describeHolder(report)}, ${whyLeft(report.location)}; the next run takes it over`
        : `left by ${describeHolder(report)}, which is no longer running (it crashed or was killed; the next run takes the lock over)`;
    case 'shared':
      return 'none: workers share the checkpoint, each holding its items under a lease';
  }
}

/** `305/1000  30.5%  12/s  ETA 58s` with a bar before it, or `12 completed  1.2/s` without a total. */
export function describeProgress(step: StepStatusReport, barWidth: number): string {
  const rate = step.ratePerSecond === null ? '-/s' : formatRate(step.ratePerSecond);
  if (step.total === null) return `${step.completed} completed (total unknown)  ${rate}`;
  const fraction = step.total === 0 ? 1 : step.completed / step.total;
  const count = `${String(step.completed).padStart(String(step.total).length)}/${step.total}`;
  const percent = `${(step.percent ?? 0).toFixed(1)}%`.padStart(6);
  const done = step.completed + step.deadLetter >= step.total;
  const eta = done ? 'done' : step.etaMs === null ? 'ETA ?' : `ETA ${formatEta(step.etaMs)}`;
  const bar = barWidth > 0 ? `${formatBar(fraction, barWidth)}  ` : '';
  return `${bar}${count}  ${percent}  ${rate}  ${eta}`;
}

export function describeCounts(step: StepStatusReport): string {
  return `failed ${step.failed}  dead letters ${step.deadLetter}  pending ${step.pending}  in progress ${step.inProgress}`;
}

export function describeError(entry: ErrorLogEntry, width: number): string {
  const where = [entry.step, entry.key === undefined ? undefined : truncate(entry.key, 30)].filter((part) => part !== undefined).join('  ');
  const room = Math.max(20, width - where.length - 4);
  return `${where ? `${where}  ` : ''}${truncate(entry.message, room)}`;
}

export interface FrameOptions {
  now: number;
  /** Terminal columns: no line is longer, so nothing wraps and the redraw stays in place. */
  width: number;
  /** Terminal rows: a frame has at most this many lines. */
  height: number;
  intervalMs: number;
  style: Style;
  /** False for `--once`: no "press q" header and no "still watching". */
  live: boolean;
}

/** One screen of `watch` for a terminal, as lines (may carry colour); pure, for tests. */
export function renderFrame(snapshot: WatchSnapshot, options: FrameOptions): string[] {
  const { report, recentErrors } = snapshot;
  const { style, width } = options;
  const state = lockState(report);
  const lockText = describeLock(report);
  const every = options.intervalMs < 1000 ? `${options.intervalMs} ms` : formatDuration(options.intervalMs);
  const lines = [
    style.bold(options.live ? `Watching ${report.location} (${report.format}) every ${every} — press q to quit` : `${report.location} (${report.format})`),
    `Pipeline  ${report.pipeline ?? style.dim('(not named)')}`,
    `Run id    ${report.runId}`,
    `Lock      ${state === 'running' ? style.yellow(lockText) : state === 'shared' ? style.dim(lockText) : style.green(lockText)}`,
    `Updated   ${formatDuration(options.now - Date.parse(report.updatedAt))} ago`,
  ];
  if (options.live && (state === 'free' || state === 'abandoned')) lines.push(style.dim('Showing the final state; still watching, as a new run may start.'));
  if (report.loadedFrom) lines.push(style.red(`Damaged: ${showingBackup(report.loadedFrom)}`));
  lines.push('');

  const names = Object.keys(report.steps);
  if (names.length === 0) lines.push(style.dim('No steps yet.'));
  const labelWidth = Math.max(0, ...names.map((name) => name.length));
  // The bar takes what is left of a 120-column line; on a narrow terminal it shrinks, then goes.
  const barWidth = Math.max(0, Math.min(30, width - labelWidth - 40));
  for (const name of names) {
    const step = report.steps[name]!;
    lines.push(`${name.padEnd(labelWidth)}  ${describeProgress(step, barWidth)}`);
    const counts = describeCounts(step);
    lines.push(`${' '.repeat(labelWidth)}  ${step.failed + step.deadLetter > 0 ? style.red(counts) : style.dim(counts)}`);
  }
  lines.push('');

  if (recentErrors.length === 0) lines.push(style.dim('No errors logged.'));
  else {
    lines.push(`Errors: ${report.errors.count} logged, the newest last`);
    for (const entry of recentErrors) lines.push(`  ${style.red(describeError(entry, width - 2))}`);
  }
  return fitToScreen(lines, width, options.height);
}

/** Cuts lines to `width` visible columns (keeping colour codes whole) and to `height` lines. */
export function fitToScreen(lines: readonly string[], width: number, height: number): string[] {
  const kept = lines.length > height ? [...lines.slice(0, Math.max(0, height - 1)), '…'] : [...lines];
  return kept.map((line) => fitLine(line, width));
}

function fitLine(line: string, width: number): string {
  if (visibleLength(line) <= width) return line;
  let visible = 0;
  let result = '';
  for (let i = 0; i < line.length && visible < width - 1; i++) {
    const escape = COLOUR_CODE.exec(line.slice(i));
    if (escape) {
      result += escape[0];
      i += escape[0].length - 1;
    } else {
      result += line[i];
      visible++;
    }
  }
  // Reset colour, so that a cut inside a coloured field does not colour what follows.
  return line.includes('\u001b[') ? `${result}…\u001b[0m` : `${result}…`;
}

const COLOUR_CODE = /^\u001b\[\d+m/;
