/**
 * What a progress line shows. `ForEachProgress` (what `forEach` hands `onProgress`) has all of
 * it; this module asks only for the fields it draws, so that it depends on nothing else.
 */
export interface ProgressSnapshot {
  /** The step the items belong to; it labels the line. */
  step?: string;
  /** Items finished: completed, failed, or skipped because they were done before. */
  done: number;
  /** How many items there are, when known. */
  total: number | undefined;
  failed: number;
  /** Items skipped because an earlier run had done them. */
  skipped?: number;
  /** Items per second in this run. */
  rate: number;
  /** Estimated milliseconds left, when known. */
  etaMs: number | undefined;
}

export interface ProgressLineOptions {
  /**
   * Width of the bar in characters.
   * @default 24
   */
  barWidth?: number;
  /** Cut the line to this many characters (a terminal's width), so it never wraps. */
  maxWidth?: number;
}

const FILLED = '\u2588';
const EMPTY = '\u2591';

/** `42s`, `3m 05s`, `2h 07m`: short enough for a status line, precise enough to plan by. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const seconds = Math.round(ms / 1000);
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, '0')}s`;
  const hours = Math.floor(minutes / 60);
  return `${hours}h ${String(minutes % 60).padStart(2, '0')}m`;
}

/** Items per second: one decimal while it is small, whole numbers once the decimal is noise. */
export function formatRate(rate: number): string {
  if (!Number.isFinite(rate) || rate <= 0) return '0/s';
  return rate < 10 ? `${rate.toFixed(1)}/s` : `${Math.round(rate)}/s`;
}

/** A bar of `width` characters, `fraction` of it filled. */
export function formatBar(fraction: number, width: number): string {
  const clamped = Number.isFinite(fraction) ? Math.min(Math.max(fraction, 0), 1) : 0;
  const filled = Math.round(clamped * width);
  return FILLED.repeat(filled) + EMPTY.repeat(width - filled);
}

/**
 * One line of progress, e.g.
 * `enrich ████████████░░░░░░░░░░░░ 250/500  50% | 41/s | ETA 6s | 120 already done | 2 failed`.
 * Without a known total there is no bar and no ETA: `enrich 250 done | 41/s`.
 */
export function formatProgressLine(progress: ProgressSnapshot, options: ProgressLineOptions = {}): string {
  const { barWidth = 24, maxWidth } = options;
  const label = progress.step ?? 'progress';
  const parts: string[] = [];
  const { done, total } = progress;
  if (total !== undefined && total > 0) {
    const percent = Math.floor((Math.min(done, total) / total) * 100);
    const count = `${String(done).padStart(String(total).length)}/${total}`;
    parts.push(`${label} ${formatBar(done / total, barWidth)} ${count} ${String(percent).padStart(3)}%`);
  } else {
    parts.push(`${label} ${done} done`);
  }
  parts.push(formatRate(progress.rate));
  if (total !== undefined && done < total) parts.push(`ETA ${progress.etaMs === undefined ? '?' : formatDuration(progress.etaMs)}`);
  if (progress.skipped) parts.push(`${progress.skipped} already done`);
  if (progress.failed > 0) parts.push(`${progress.failed} failed`);
  const line = parts.join(' | ');
  return maxWidth !== undefined && maxWidth > 0 && line.length > maxWidth ? line.slice(0, Math.max(0, maxWidth - 1)) + '…' : line;
}
