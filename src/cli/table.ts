import { visibleLength } from './output.js';

export interface Column {
  header: string;
  /** Numbers read best right-aligned. */
  align?: 'left' | 'right';
}

/** Renders rows as an aligned plain-text table with a header line; cells may carry colour. */
export function renderTable(columns: readonly Column[], rows: readonly (readonly string[])[]): string[] {
  const widths = columns.map((column, i) => Math.max(visibleLength(column.header), ...rows.map((row) => visibleLength(row[i] ?? ''))));
  const render = (cells: readonly string[]): string =>
    columns
      .map((column, i) => {
        const cell = cells[i] ?? '';
        const pad = ' '.repeat(widths[i]! - visibleLength(cell));
        return column.align === 'right' ? pad + cell : i === columns.length - 1 ? cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  return [render(columns.map((column) => column.header)), ...rows.map(render)];
}

/** Label / value lines, with the values aligned. */
export function renderFields(fields: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(...fields.map(([label]) => label.length));
  return fields.map(([label, value]) => `${label.padEnd(width)}  ${value}`);
}
