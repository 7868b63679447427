import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (test/bench/lib → ../../..). */
export const ROOT = resolve(fileURLToPath(new URL('../../..', import.meta.url)));

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** The value at quantile `q` (0..1) of an already sorted array. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Milliseconds taken by `run`. */
export async function timed(run: () => Promise<void> | void): Promise<number> {
  const start = performance.now();
  await run();
  return performance.now() - start;
}

export interface Scale {
  quick: boolean;
  /** Repetitions of each measurement; figures are their median. */
  repetitions: number;
  /** Marks per repetition for the in-memory-speed modes (`normal`, `batched`, raw append). */
  fastMarks: number;
  /** Marks per repetition where each one waits for an fsync. */
  syncedMarks: number;
  /** Items in the "seeds" baseline (the issue fixes it at 2,000). */
  seedItems: number;
  /** Items in the big-checkpoint scenarios (6, 7). */
  bigItems: number;
  /** Items per `forEach` repetition. */
  forEachItems: number;
  /** Items per PostgresStore repetition (scenario 9) with no work per item. */
  postgresItems: number;
  /**
   * Items per PostgresStore repetition with 5 ms of work per item; 0 leaves that level out (the
   * quick run, where starting the worker processes would cost more time than the measuring).
   */
  postgresWorkItems: number;
  /** Repetitions of the peer comparison (scenario 10): the quick run's smoke test does one. */
  peerRepetitions: number;
  /** Marks per contender and repetition in the in-memory-speed classes of scenario 10. */
  peerFastMarks: number;
  /** Marks per contender and repetition in the synced classes of scenario 10 (x4 with 16 in flight). */
  peerSyncedMarks: number;
  /** Items in the 10M-item checkpoint of scenario 12; 0 leaves it out (the quick run). */
  hugeItems: number;
  /** Marks in the journal a kill -9 leaves uncompacted (scenario 12). */
  reopenItems: number;
  /** Marks per mode and round into an az:// checkpoint on Azurite, baseline included (scenario 13). */
  objectMarks: number;
  /** Interleaved rounds of scenario 13 (each mode and the baseline once per round). */
  objectRepetitions: number;
}

export function scaleFor(quick: boolean): Scale {
  return quick
    ? { quick, repetitions: 3, fastMarks: 50_000, syncedMarks: 400, seedItems: 2_000, bigItems: 200_000, forEachItems: 20_000, postgresItems: 1_000, postgresWorkItems: 0, peerRepetitions: 1, peerFastMarks: 10_000, peerSyncedMarks: 100, hugeItems: 0, reopenItems: 100_000, objectMarks: 200, objectRepetitions: 2 }
    : { quick, repetitions: 5, fastMarks: 200_000, syncedMarks: 1_500, seedItems: 2_000, bigItems: 1_000_000, forEachItems: 100_000, postgresItems: 5_000, postgresWorkItems: 2_000, peerRepetitions: 5, peerFastMarks: 50_000, peerSyncedMarks: 500, hugeItems: 10_000_000, reopenItems: 1_000_000, objectMarks: 2_000, objectRepetitions: 3 };
}

/** The key of item `i`: a short relative path, as pipelines often key their inputs. */
export const keyOf = (i: number): string => `doc/${String(i).padStart(7, '0')}.json`;

export interface WorkDirectory {
  path: string;
  /** The file system it is on, as `df` names it (`ext4`, `tmpfs`, …). */
  fileSystem: string;
  /** Whether fsync there reaches a disk (not tmpfs/ramfs). */
  realDisk: boolean;
}

function fileSystemOf(path: string): string {
  try {
    return execFileSync('df', ['--output=fstype', path], { encoding: 'utf8' }).trim().split('\n').at(-1)!.trim();
  } catch {
    return 'unknown';
  }
}

const MEMORY_FILE_SYSTEMS = new Set(['tmpfs', 'ramfs', 'devtmpfs']);

/**
 * Where the benchmark writes its files. fsync on tmpfs costs nothing, which would make the
 * durable modes look free: if the system temp dir is in memory, use `.tmp/` in the repository.
 */
export function makeWorkDirectory(): WorkDirectory {
  const candidates = [process.env['CHECKPOINTER_BENCH_DIR'], tmpdir(), join(ROOT, '.tmp')].filter((dir): dir is string => Boolean(dir));
  for (const base of candidates) {
    const fileSystem = fileSystemOf(base);
    if (!MEMORY_FILE_SYSTEMS.has(fileSystem) || base === candidates.at(-1)) {
      mkdirSync(base, { recursive: true });
      const path = mkdtempSync(join(base, 'checkpointer-bench-'));
      return { path, fileSystem, realDisk: !MEMORY_FILE_SYSTEMS.has(fileSystem) };
    }
  }
  throw new Error('no directory to benchmark in');
}

let counter = 0;
/** A fresh sub-directory of the work directory for one repetition. */
export function freshDirectory(work: WorkDirectory, name: string): string {
  const path = join(work.path, `${name}-${++counter}`);
  mkdirSync(path);
  return path;
}

export const yieldToEventLoop = (): Promise<void> => new Promise((done) => setImmediate(done));
