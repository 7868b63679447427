import type { ErrorInfo, ItemStatus } from '../core/model.js';
import type { CheckpointState } from '../core/state.js';
import { CliError } from './cli-error.js';
import { truncate } from './human.js';
import type { Output } from './output.js';
import { renderTable } from './table.js';

export interface InspectOptions {
  step?: string;
  /** Only failed and dead-letter items. */
  failed?: boolean;
  /** At most this many items; 0 for all. */
  limit: number;
}

/** One row of `checkpoint-resume inspect --json`. */
export interface InspectedItem {
  step: string;
  key: string;
  status: ItemStatus;
  attempts: number;
  updatedAt: string | null;
  error: ErrorInfo | null;
}

export interface InspectReport {
  items: InspectedItem[];
  /** How many items matched in all, before `limit`. */
  total: number;
}

const FAILED: ReadonlySet<ItemStatus> = new Set(['failed', 'dead_letter']);
/** Items that need a look come first: failures, then work in flight, then the done ones. */
const ORDER: Record<ItemStatus, number> = { dead_letter: 0, failed: 1, in_progress: 2, pending: 3, completed: 4 };

export function inspectItems(state: CheckpointState, options: InspectOptions): InspectReport {
  if (options.step !== undefined && !state.steps.has(options.step)) {
    const known = [...state.steps.keys()];
    throw new CliError(`step "${options.step}" is not in this checkpoint — ${known.length ? `its steps are: ${known.join(', ')}` : 'it has no steps yet'}`);
  }
  const items: InspectedItem[] = [];
  const completed: { step: string; keys: Iterable<string>; listed: Set<string> }[] = [];
  for (const [name, step] of state.steps) {
    if (options.step !== undefined && name !== options.step) continue;
    const listed = new Set<string>();
    for (const [key, record] of step.items) {
      if (options.failed && !FAILED.has(record.status)) continue;
      listed.add(key);
      items.push({
        step: name,
        key,
        status: record.status,
        attempts: record.attempts,
        updatedAt: record.updatedAt === undefined ? null : new Date(record.updatedAt).toISOString(),
        error: record.error ?? null,
      });
    }
    if (!options.failed) completed.push({ step: name, keys: step.completed, listed });
  }
  const sorted = items
    .map((item, index) => ({ item, index }))
    .sort((a, b) => ORDER[a.item.status] - ORDER[b.item.status] || a.index - b.index)
    .map(({ item }) => item);
  // Completed keys are the bulk of a big checkpoint and come last: count them all, list only
  // as many as the limit leaves room for.
  let total = sorted.length;
  for (const { step, keys, listed } of completed) {
    for (const key of keys) {
      if (listed.has(key)) continue;
      total++;
      if (options.limit === 0 || sorted.length < options.limit) sorted.push({ step, key, status: 'completed', attempts: 1, updatedAt: null, error: null });
    }
  }
  return { items: options.limit > 0 ? sorted.slice(0, options.limit) : sorted, total };
}

export function printInspect(report: InspectReport, out: Output): void {
  const { style } = out;
  if (report.total === 0) {
    out.line('No matching items.');
    return;
  }
  const colour: Record<ItemStatus, (text: string) => string> = {
    completed: style.green,
    failed: style.red,
    dead_letter: style.red,
    in_progress: style.yellow,
    pending: style.yellow,
  };
  const rows = report.items.map((item) => [
    item.step,
    truncate(item.key, 48),
    colour[item.status](item.status),
    String(item.attempts),
    item.error ? truncate(`${item.error.name ? `${item.error.name}: ` : ''}${item.error.message}`, 80) : '',
  ]);
  const columns = [{ header: 'Step' }, { header: 'Item' }, { header: 'Status' }, { header: 'Attempts', align: 'right' as const }, { header: 'Last error' }];
  for (const line of renderTable(columns, rows)) out.line(line);
  if (report.items.length < report.total) {
    out.line(style.dim(`… ${report.total - report.items.length} more item(s); use --limit 0 to see all, or --json`));
  }
}
