import { writeSync } from 'node:fs';
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

/** The worker config for a kill loop over `scenario`, compacting often so that kills land inside compactions. */
export function workerConfig(scenario: Omit<WorkerConfig, 'minCompactBytes'>): WorkerConfig {
  return {
    path: scenario.path,
    durability: scenario.durability,
    items: scenario.items,
    concurrency: scenario.concurrency,
    minCompactBytes: 4096,
    ...(scenario.batchSize === undefined ? {} : { batchSize: scenario.batchSize }),
  };
}

/**
 * Writes one protocol line to stdout. A write to the pipe goes straight to the kernel, so a
 * SIGKILL right after it cannot lose the line. The pipe may be non-blocking: when its buffer is
 * full, try again.
 */
export function report(line: string): void {
  let rest = Buffer.from(`${line}\n`);
  while (rest.length > 0) {
    try {
      rest = rest.subarray(writeSync(1, rest));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
    }
  }
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
