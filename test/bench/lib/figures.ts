import type { Scale, WorkDirectory } from './measure.js';

/**
 * One measured figure. `ratio` is always a cost ratio, ours ÷ baseline (time per mark, bytes,
 * latency): below 1 we are cheaper than the baseline, above 1 dearer.
 */
export interface Figure {
  /** Stable name, used by the targets and in results.json: `normal.marks`. */
  id: string;
  scenario: number;
  label: string;
  value: number;
  unit: string;
  baseline?: { label: string; value: number };
  ratio?: number;
  /** The per-repetition values the median `value` was taken from. */
  samples?: number[];
  note?: string;
}

/** A throughput figure (things per second) against a baseline throughput. */
export function rateFigure(
  fields: Omit<Figure, 'ratio' | 'baseline' | 'value'> & { value: number; baseline?: { label: string; value: number } },
): Figure {
  const { baseline } = fields;
  return { ...fields, ...(baseline ? { baseline, ratio: baseline.value / fields.value } : {}) };
}

/** A cost figure (ms, bytes, µs) against a baseline cost. */
export function costFigure(
  fields: Omit<Figure, 'ratio' | 'baseline' | 'value'> & { value: number; baseline?: { label: string; value: number } },
): Figure {
  const { baseline } = fields;
  return { ...fields, ...(baseline ? { baseline, ratio: fields.value / baseline.value } : {}) };
}

/** A scenario that threw instead of returning figures: shown as an error row, and the run fails. */
export interface ScenarioFailure {
  scenarios: number[];
  title: string;
  error: string;
}

/** What a scenario is handed. */
export interface ScenarioContext {
  scale: Scale;
  work: WorkDirectory;
  log: (line: string) => void;
}

export interface Scenario {
  numbers: number[];
  title: string;
  run(context: ScenarioContext): Promise<Figure[]>;
}
