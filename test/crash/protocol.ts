import type { CheckpointManager, Durability } from '../../src/index.js';

/** What the crash worker is told to do (passed as JSON in its first argument). */
export interface WorkerConfig {
  path: string;
  durability: Durability;
  items: number;
  concurrency: number;
  batchSize?: number;
  /** Compact after this many journal bytes: small, so that kills land inside compactions. */
  minCompactBytes: number;
}

export const STEP = 'crash';
export const itemName = (i: number): string => `item-${String(i).padStart(4, '0')}`;

/** The worker's report on opening: what the checkpoint held. */
export interface OpenReport {
  completed: string[];
  pending: string[];
  /**
   * Files beside the checkpoint before it was opened other than the snapshot, its journal, its
   * backups and its lock: sealed journals and temporary snapshots, left by a kill that landed
   * inside a compaction.
   */
  leftovers: string[];
}

export type WorkerLine =
  | { kind: 'open'; report: OpenReport }
  | { kind: 'start' | 'ack'; key: string }
  | { kind: 'warn' | 'error'; message: string }
  | { kind: 'done' };

export function parseLine(line: string): WorkerLine {
  const space = line.indexOf(' ');
  const kind = space === -1 ? line : line.slice(0, space);
  const rest = space === -1 ? '' : line.slice(space + 1);
  switch (kind) {
    case 'open':
      return { kind, report: JSON.parse(rest) as OpenReport };
    case 'start':
    case 'ack':
      return { kind, key: rest };
    case 'warn':
    case 'error':
      return { kind, message: rest };
    case 'done':
      return { kind };
    default:
      throw new Error(`unexpected line from the worker: ${line}`);
  }
}

/**
 * The workers' loop: `concurrency` loops take the pending items in turn, report `start`, mark the
 * item in progress, do a little work, mark it completed and report `ack` — after the mark resolved.
 */
export async function markAll(cp: CheckpointManager, pending: readonly string[], concurrency: number, report: (line: string) => void): Promise<void> {
  const queue = [...pending];
  const loop = async (): Promise<void> => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) {
      report(`start ${item}`);
      await cp.markItemInProgress(STEP, item);
      // A little work, so that the marks of concurrent loops interleave with timers and I/O.
      await new Promise((resolve) => setTimeout(resolve, 1));
      await cp.markItemCompleted(STEP, item);
      report(`ack ${item}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
}
