/** Where a command writes, and whether it may use colour there. */
export interface Output {
  /** Writes text as it is to standard output (commander's help). */
  write(text: string): void;
  /** Writes text as it is to standard error (commander's usage errors). */
  writeError(text: string): void;
  /** Writes one line to standard output. */
  line(text?: string): void;
  /** Writes one line to standard error. */
  error(text: string): void;
  readonly style: Style;
}

export interface Style {
  bold(text: string): string;
  dim(text: string): string;
  red(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
}

const ansi = (open: number, close: number) => (text: string): string => `\u001b[${open}m${text}\u001b[${close}m`;
const plain = (text: string): string => text;

export const colourStyle: Style = { bold: ansi(1, 22), dim: ansi(2, 22), red: ansi(31, 39), green: ansi(32, 39), yellow: ansi(33, 39) };
export const plainStyle: Style = { bold: plain, dim: plain, red: plain, green: plain, yellow: plain };

/**
 * Colour only for a person at a terminal: never when output goes to a file or a pipe, and never
 * when `NO_COLOR` is set (https://no-color.org). `hasColors` also honours `FORCE_COLOR` and
 * `TERM=dumb`.
 */
export function wantsColour(stream: NodeJS.WriteStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return stream.isTTY === true && typeof stream.hasColors === 'function' && stream.hasColors();
}

/** Removes colour codes, to measure how wide a cell looks. */
export function visibleLength(text: string): number {
  return text.replace(/\u001b\[\d+m/g, '').length;
}

export function processOutput(): Output {
  return {
    write: (text) => process.stdout.write(text),
    writeError: (text) => process.stderr.write(text),
    line: (text = '') => process.stdout.write(`${text}\n`),
    error: (text) => process.stderr.write(`${text}\n`),
    style: wantsColour(process.stdout) ? colourStyle : plainStyle,
  };
}
