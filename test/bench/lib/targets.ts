import type { Figure } from './figures.js';
import { formatNumber, formatRatio } from './report.js';

export interface Target {
  /** A figure's id, or a prefix ending in `*` for a target every matching figure must meet. */
  figure: string;
  text: string | ((figure: Figure) => string);
  /** Whether the target is on the figure's value or on its ratio to the baseline. */
  on: 'value' | 'ratio';
  met(figure: Figure): boolean;
}

const ratio = (figure: Figure): number => figure.ratio ?? Number.NaN;
const CLASS_NAMES: Record<string, string> = { normal: "'normal'", batched: "'batched'", full: "'full' sequential", full16: "'full', 16 in flight" };
const className = (figure: Figure): string => CLASS_NAMES[figure.id.split('.')[1]!] ?? figure.id;
const workers = (figure: Figure): string => figure.id.match(/\.w(\d+)/)?.[1] ?? '?';
const level = (figure: Figure): string => (figure.id.includes('work5ms') ? '5 ms work' : 'no work');

/** Against what users pick instead (issue 18): peers at matching durability, floors, PostgreSQL queues, big checkpoints. */
const ISSUE_18_TARGETS: Target[] = [
  { figure: 'peers.*', text: (f) => `${className(f)} ahead of ${f.baseline?.label ?? '?'}`, on: 'ratio', met: (f) => ratio(f) < 1 },
  { figure: 'floor.*', text: (f) => `${className(f)} within 1.5x of ${f.baseline?.label ?? 'the floor'}`, on: 'ratio', met: (f) => ratio(f) <= 1.5 },
  { figure: 'full.sqliteWorstRep', text: "'full' sequential ahead of SQLite FULL in every repetition (worst one)", on: 'value', met: (f) => f.value < 1 },
  { figure: 'pgpeers.*.graphile', text: (f) => `PostgresStore, ${workers(f)} worker(s), ${level(f)}: ahead of graphile-worker`, on: 'ratio', met: (f) => ratio(f) < 1 },
  { figure: 'pgpeers.*.pgboss', text: (f) => `PostgresStore, ${workers(f)} worker(s), ${level(f)}: ahead of pg-boss`, on: 'ratio', met: (f) => ratio(f) < 1 },
  { figure: 'pgceiling.*', text: (f) => `PostgresStore, ${workers(f)} worker(s), 5 ms work: >= 85% of the work-bound ceiling`, on: 'value', met: (f) => f.value >= 85 },
  { figure: 'huge.open', text: 'a 10M-item checkpoint opens within 1.3x of JSON.parse of its snapshot', on: 'ratio', met: (f) => ratio(f) <= 1.3 },
  { figure: 'huge.heap', text: 'heap <= 100 B/item at 10M items', on: 'value', met: (f) => f.value <= 100 },
  { figure: 'reopen.open', text: 'reopen after kill -9 (journal not compacted) within 3x of JSON.parse of the compacted snapshot', on: 'ratio', met: (f) => ratio(f) <= 3 },
  { figure: 'big.lookup', text: 'isItemCompleted within 1.3x of Set.has at 1M keys (200k with --quick)', on: 'ratio', met: (f) => ratio(f) <= 1.3 },
  { figure: 'huge.lookup', text: 'isItemCompleted within 1.3x of Set.has at 10M keys', on: 'ratio', met: (f) => ratio(f) <= 1.3 },
];

/**
 * Object storage (scenario 13), against seed 002's conditional PUT of the whole document per mark
 * on the same Azurite server: sequential `full` and `normal` are one request per mark too, so on
 * par is enough (at small documents the two requests cost the same); the modes that share a
 * request are ahead. The diagnostic row without compaction has no target.
 */
const OBJECT_TARGETS: Target[] = [
  { figure: 'object.full.marks', text: "az:// 'full', 1 in flight: >= 0.8x the marks/s of a whole-document PUT per mark", on: 'ratio', met: (f) => ratio(f) <= 1.25 },
  { figure: 'object.full16.marks', text: "az:// 'full', 16 in flight: >= 3x faster than a whole-document PUT per mark", on: 'ratio', met: (f) => 1 / ratio(f) >= 3 },
  // In a bucket `normal` waits for its segment as `full` does: one request per sequential mark.
  { figure: 'object.normal.marks', text: "az:// 'normal', 1 in flight: >= 0.8x the marks/s of a whole-document PUT per mark", on: 'ratio', met: (f) => ratio(f) <= 1.25 },
  { figure: 'object.batched.marks', text: "az:// 'batched': >= 10x faster than a whole-document PUT per mark", on: 'ratio', met: (f) => 1 / ratio(f) >= 10 },
];

/** The issue's targets. They live here only: CI runs the benchmark as a smoke test, never against them. */
export const TARGETS: Target[] = [
  { figure: 'normal.marks', text: "'normal' >= 100,000 marks/s", on: 'value', met: (f) => f.value >= 100_000 },
  { figure: 'normal.marks', text: "'normal' <= 2x the cost of a raw append", on: 'ratio', met: (f) => ratio(f) <= 2 },
  { figure: 'batched.marks', text: "'batched' >= 300,000 marks/s", on: 'value', met: (f) => f.value >= 300_000 },
  { figure: 'full.marks', text: "'full' sequential <= 1.3x raw write + fsync", on: 'ratio', met: (f) => ratio(f) <= 1.3 },
  { figure: 'full.marks16', text: "'full' at 16 concurrent >= 5x faster than an fsync per record", on: 'ratio', met: (f) => 1 / ratio(f) >= 5 },
  { figure: 'seeds.normal', text: '>= 50x faster than a whole-file rewrite per mark at 2,000 items', on: 'ratio', met: (f) => 1 / ratio(f) >= 50 },
  { figure: 'sqlite.normal', text: "ahead of better-sqlite3 synchronous=NORMAL ('normal')", on: 'ratio', met: (f) => ratio(f) < 1 },
  { figure: 'sqlite.full', text: "ahead of better-sqlite3 synchronous=FULL ('full')", on: 'ratio', met: (f) => ratio(f) < 1 },
  { figure: 'big.open', text: 'open < 2 s', on: 'value', met: (f) => f.value < 2000 },
  { figure: 'big.open', text: 'open <= 2x JSON.parse of the snapshot', on: 'ratio', met: (f) => ratio(f) <= 2 },
  { figure: 'big.lookup', text: 'isItemCompleted <= 2x Set.has', on: 'ratio', met: (f) => ratio(f) <= 2 },
  { figure: 'big.heap', text: 'heap <= 150 B/item', on: 'value', met: (f) => f.value <= 150 },
  { figure: 'big.snapshot', text: 'snapshot <= 40 B/item', on: 'value', met: (f) => f.value <= 40 },
  { figure: 'latency.max', text: 'no mark waits more than 50 ms, compactions included', on: 'value', met: (f) => f.value <= 50 },
  ...ISSUE_18_TARGETS,
  ...OBJECT_TARGETS,
];

export interface TargetResult {
  text: string;
  figure: string;
  /** What the target was checked on, as printed: `123,456 marks/s`, `1.42x`, `0.12x (8x better)`. */
  measured: string;
  met: boolean;
}

export function checkTargets(figures: readonly Figure[]): TargetResult[] {
  const results: TargetResult[] = [];
  for (const target of TARGETS) {
    for (const figure of figures.filter((candidate) => matches(target.figure, candidate.id))) {
      const measured = target.on === 'ratio' ? formatRatio(figure.ratio) : `${formatNumber(figure.value)} ${figure.unit}`;
      const text = typeof target.text === 'string' ? target.text : target.text(figure);
      results.push({ text, figure: figure.id, measured, met: target.met(figure) });
    }
  }
  return results;
}

/** `peers.*` matches `peers.normal.lmdb`; `pgpeers.*.graphile` matches `pgpeers.nowork.w1.graphile`. */
function matches(pattern: string, id: string): boolean {
  if (!pattern.includes('*')) return pattern === id;
  const [head, tail] = pattern.split('*') as [string, string];
  return id.startsWith(head) && id.endsWith(tail) && id.length >= head.length + tail.length;
}
