import type { Figure, ScenarioFailure } from './figures.js';
import type { TargetResult } from './targets.js';

export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude >= 1000) return Math.round(value).toLocaleString('en-US');
  if (magnitude >= 100) return value.toFixed(0);
  if (magnitude >= 10) return value.toFixed(1);
  if (magnitude >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

/** `0.31x (3.2x faster)` / `1.42x`: the cost ratio, and for a cheaper figure how many times so. */
export function formatRatio(ratio: number | undefined): string {
  if (ratio === undefined) return '';
  const cost = `${ratio >= 10 ? ratio.toFixed(1) : ratio.toFixed(2)}x`;
  if (ratio >= 1) return cost;
  const better = 1 / ratio;
  return `${ratio < 0.01 ? ratio.toFixed(4) : ratio.toFixed(2)}x (${better >= 10 ? better.toFixed(0) : better.toFixed(1)}x better)`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((row) => row[column]!.length)));
  const line = (row: string[]): string => `| ${row.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  return [line(rows[0]!), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}

/** A Markdown table (it reads well in a terminal too), ready to paste into docs/performance.md. */
export function figuresTable(figures: readonly Figure[], failures: readonly ScenarioFailure[] = []): string {
  const rows = [['#', 'figure', 'value', 'baseline (same run)', 'baseline value', 'cost vs baseline']];
  for (const figure of figures) {
    rows.push([
      String(figure.scenario),
      figure.label,
      `${formatNumber(figure.value)} ${figure.unit}`,
      figure.baseline?.label ?? '',
      figure.baseline ? `${formatNumber(figure.baseline.value)} ${figure.unit}` : '',
      formatRatio(figure.ratio),
    ]);
  }
  // After the figures, where the eye lands before the targets.
  for (const failure of failures) {
    const firstLine = failure.error.split('\n')[0]!.replace(/^Error: /, '');
    rows.push([failure.scenarios.join(', '), `FAILED: ${failure.title}`, 'ERROR', firstLine, '', '']);
  }
  return table(rows);
}

export function targetsTable(results: readonly TargetResult[]): string {
  const rows = [['target', 'measured', 'result']];
  for (const result of results) rows.push([result.text, result.measured, result.met ? 'met' : 'MISSED']);
  return table(rows);
}
