import type { CheckpointListing } from '../stores/postgres/list-checkpoints.js';
import type { StepItemCounts } from '../stores/postgres/options.js';
import { formatTime } from './human.js';
import type { Output } from './output.js';
import { renderTable } from './table.js';

/** What `checkpoint-resume list --json` prints. */
export interface ListReport {
  /** The database without its password, and the schema. */
  location: string;
  checkpoints: CheckpointListing[];
}

/** Only the checkpoints of one pipeline, when `--pipeline` is given. */
export function filterListing(report: ListReport, pipeline: string | undefined): ListReport {
  return pipeline === undefined ? report : { ...report, checkpoints: report.checkpoints.filter((checkpoint) => checkpoint.pipeline === pipeline) };
}

/** The item-count columns of both listings: completed, failed (dead letters included, red when any), unfinished. */
export const ITEM_COLUMNS = ['Completed', 'Failed', 'Unfinished'].map((header) => ({ header, align: 'right' as const }));

export function itemCells(items: StepItemCounts, style: Output['style']): string[] {
  const failed = items.failed + items.deadLetter;
  return [String(items.completed), failed > 0 ? style.red(String(failed)) : String(failed), String(items.pending + items.inProgress)];
}

export function printList(report: ListReport, out: Output, now: number): void {
  const { style } = out;
  if (report.checkpoints.length === 0) {
    out.line(`No checkpoints in ${report.location}.`);
    return;
  }
  const rows = report.checkpoints.map(({ pipeline, runId, createdAt, updatedAt, items }) => [
    pipeline,
    runId === '' ? style.dim('-') : runId,
    formatTime(createdAt, now),
    formatTime(updatedAt, now),
    ...itemCells(items, style),
  ]);
  const columns = [{ header: 'Pipeline' }, { header: 'Run' }, { header: 'Started' }, { header: 'Updated' }, ...ITEM_COLUMNS];
  out.line(`Checkpoints in ${report.location}:`);
  for (const line of renderTable(columns, rows)) out.line(line);
  out.line(style.dim('Look at one with: checkpoint-resume status <url> --pipeline NAME [--run-id RUN]'));
}
