import type { Figure } from './figures.js';
import { formatNumber, formatRatio } from './report.js';

export interface Target {
  figure: string;
  text: string;
  /** Whether the target is on the figure's value or on its ratio to the baseline. */
  on: 'value' | 'ratio';
  met(figure: Figure): boolean;
}

const ratio = (figure: Figure): number => figure.ratio ?? Number.NaN;

/** The targets. They live here only: CI runs the benchmark as a smoke test, never against them. */
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
    const figure = figures.find((candidate) => candidate.id === target.figure);
    if (!figure) continue;
    const measured = target.on === 'ratio' ? formatRatio(figure.ratio) : `${formatNumber(figure.value)} ${figure.unit}`;
    results.push({ text: target.text, figure: figure.id, measured, met: target.met(figure) });
  }
  return results;
}
