import type { CheckpointListing } from '../stores/postgres/list-checkpoints.js';
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

export function printList(report: ListReport, out: Output, now: number): void {
  const { style } = out;
  if (report.checkpoints.length === 0) {
    out.line(`No checkpoints in ${report.location}.`);
    return;
  }
  const count = (n: number, colour: (text: string) => string): string => (n > 0 ? colour(String(n)) : String(n));
  const rows = report.checkpoints.map(({ pipeline, runId, createdAt, updatedAt, items }) => [
    pipeline,
    runId === '' ? style.dim('-') : runId,
    formatTime(createdAt, now),
    formatTime(updatedAt, now),
    String(items.completed),
    count(items.failed + items.deadLetter, style.red),
    String(items.pending + items.inProgress),
  ]);
  const columns = [
    { header: 'Pipeline' },
    { header: 'Run' },
    { header: 'Started' },
    { header: 'Updated' },
    ...['Completed', 'Failed', 'Unfinished'].map((header) => ({ header, align: 'right' as const })),
  ];
  out.line(`Checkpoints in ${report.location}:`);
  for (const line of renderTable(columns, rows)) out.line(line);
  out.line(style.dim('Look at one with: checkpoint-resume status <url> --pipeline NAME [--run-id RUN]'));
}
