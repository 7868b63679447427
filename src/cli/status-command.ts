import type { ErrorLogEntry, StepStatus } from '../core/model.js';
import { stepProgress, type StepProgressCounts } from '../core/step-progress.js';
import { formatRate } from '../progress/format-progress.js';
import { formatDuration, formatTime, truncate } from './human.js';
import type { Output } from './output.js';
import { renderFields, renderTable } from './table.js';
import { lockState, type LockView, whyLeft } from './lock-view.js';
import type { CheckpointView } from './target.js';

export interface StepStatusReport extends StepProgressCounts {
  /** The step's own status, when a Pipeline recorded one. */
  status: StepStatus | null;
}

/** What `checkpoint-resume status --json` prints. Times are ISO strings, durations milliseconds. */
export interface StatusReport {
  location: string;
  format: string;
  pipeline: string | null;
  runId: string;
  createdAt: string;
  updatedAt: string;
  /** Time since the run started. */
  ageMs: number;
  /**
   * The process holding the lock (a bucket's lease), or null (always null in PostgreSQL, where
   * workers share the checkpoint and hold items under leases instead). `alive` is false for a
   * holder that is no longer running or whose lease expired (the next run takes over), null when
   * it cannot be checked from here (another host).
   */
  lock: LockView | null;
  /** The backup read instead of the damaged checkpoint (file or snapshot object), or null. */
  loadedFrom: string | null;
  steps: Record<string, StepStatusReport>;
  stages: { name: string; completedAt: string }[];
  counters: Record<string, number>;
  errors: { count: number; latest: ErrorLogEntry | null };
  /** Null for a PostgreSQL checkpoint, which is written in place, and a bucket's (segments, not a journal). */
  journal: { records: number; notYetCompacted: number; tornLines: number } | null;
}

/** What `status` and `watch` say when a backup stands in for a damaged snapshot. */
export const showingBackup = (backup: string): string => `the snapshot cannot be read; showing its backup ${backup} — see "checkpoint-resume validate"`;

export function buildStatus(view: CheckpointView, now: number): StatusReport {
  const { state, onDisk } = view;
  const document = state.toDocument();
  const steps: [string, StepStatusReport][] = [];
  for (const [name, step] of state.steps) steps.push([name, { status: step.summary?.status ?? null, ...stepProgress(step, now) }]);
  return {
    location: view.location,
    format: view.format,
    pipeline: document.metadata.pipeline ?? null,
    runId: document.metadata.runId,
    createdAt: document.metadata.createdAt,
    updatedAt: document.metadata.updatedAt,
    ageMs: Math.max(0, now - Date.parse(document.metadata.createdAt)),
    lock: view.lock,
    loadedFrom: view.loadedFrom,
    steps: Object.fromEntries(steps),
    stages: document.stages.map(({ name, completedAt }) => ({ name, completedAt })),
    counters: document.counters,
    errors: { count: document.errors.length, latest: document.errors.at(-1) ?? null },
    journal: onDisk && { records: onDisk.journal.records, notYetCompacted: onDisk.changes.length, tornLines: onDisk.journal.tornLines },
  };
}

export function printStatus(report: StatusReport, out: Output, now: number): void {
  const { style } = out;
  const holder = report.lock && `${report.lock.pid === null ? 'a process' : `process ${report.lock.pid}`}${report.lock.host ? ` on ${report.lock.host}` : ''}`;
  const state = lockState(report);
  const lock =
    state === 'shared' ? style.dim('none: workers share the checkpoint, each holding its items under a lease')
    : state === 'free' ? 'free'
    : state === 'running' ? style.yellow(`held by ${holder} (a run is in progress)`)
    : `left by ${holder}, ${whyLeft(report.location)} (the next run takes it over)`;
  const fields: [string, string][] = [
    ['Checkpoint', `${report.location} (${report.format})`],
    ['Pipeline', report.pipeline ?? style.dim('(not named)')],
    ['Run id', report.runId],
    ['Started', formatTime(report.createdAt, now)],
    ['Updated', formatTime(report.updatedAt, now)],
    ['Lock', lock],
  ];
  if (report.loadedFrom) fields.push(['Damaged', style.red(showingBackup(report.loadedFrom))]);
  for (const line of renderFields(fields)) out.line(line);
  out.line();

  const names = Object.keys(report.steps);
  if (names.length === 0) out.line(style.dim('No steps yet.'));
  else {
    const count = (n: number, colour: (text: string) => string): string => (n > 0 ? colour(String(n)) : String(n));
    const rows = names.map((name) => {
      const step = report.steps[name]!;
      return [
        name,
        step.status ?? style.dim('-'),
        String(step.completed),
        step.total === null ? style.dim('-') : String(step.total),
        step.percent === null ? style.dim('-') : `${step.percent.toFixed(1)}%`,
        count(step.failed, style.red),
        count(step.deadLetter, style.red),
        String(step.pending),
        count(step.inProgress, style.yellow),
        step.ratePerSecond === null ? style.dim('-') : formatRate(step.ratePerSecond),
        step.etaMs === null ? style.dim('-') : formatDuration(step.etaMs),
      ];
    });
    const columns = [
      { header: 'Step' },
      { header: 'Status' },
      ...['Completed', 'Total', '%', 'Failed', 'Dead letters', 'Pending', 'In progress', 'Rate', 'ETA'].map((header) => ({ header, align: 'right' as const })),
    ];
    for (const line of renderTable(columns, rows)) out.line(line);
    const stranded = names.some((name) => report.steps[name]!.inProgress > 0);
    if (stranded && state === 'shared') out.line(style.dim('Items in progress may belong to running workers; those of a worker that stopped are claimed again when their lease runs out, or retried on the next open.'));
    else if (stranded && state !== 'running') out.line(style.dim('No running process holds the lock: items in progress were interrupted and are retried on the next run.'));
  }
  out.line();

  const counters = Object.entries(report.counters).map(([name, value]) => `${name}=${value}`);
  const latest = report.errors.latest;
  const errors = latest
    ? `${report.errors.count} logged; latest: ${latest.step ? `step ${latest.step}` : ''}${latest.key ? `, item ${truncate(latest.key, 40)}` : ''}: ${truncate(latest.message, 80)}`
    : 'none';
  const tail: [string, string][] = [
    ['Stages', report.stages.length ? report.stages.map((stage) => stage.name).join(', ') : style.dim('none completed')],
    ['Counters', counters.length ? counters.join(', ') : style.dim('none')],
    ['Errors', latest ? style.red(errors) : errors],
  ];
  const journal = report.journal;
  if (journal) {
    tail.push(['Journal', `${journal.notYetCompacted} change(s) not yet compacted into the snapshot${journal.tornLines ? `, ${journal.tornLines} torn line(s) dropped` : ''}`]);
  }
  for (const line of renderFields(tail)) out.line(line);
}
