import cliProgress from 'cli-progress';
import type { TextStream } from '../core/platform-types.js';
import { formatProgressLine, type ProgressSnapshot } from './format-progress.js';

/** A stream a bar can be drawn on: a terminal when `isTTY` is true, `columns` wide. */
export type ProgressStream = TextStream;

export interface ProgressRendererOptions {
  /**
   * Where the bar is drawn. Standard error keeps standard output clean for the program's own
   * output, which may be piped.
   * @default process.stderr
   */
  stream?: ProgressStream;
  /**
   * `true` draws the bar whatever the stream is, `false` never draws it. By default it is drawn
   * only when the stream is a terminal and `CI` is not set: a bar redrawn in a log file or a CI
   * log is noise.
   */
  enabled?: boolean;
  /**
   * The environment read for `CI` and `TERM`.
   * @default process.env
   */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Width of the bar in characters.
   * @default 24
   */
  barWidth?: number;
}

/** Draws progress as it is reported; `stop()` ends the bar and leaves its last line on screen. */
export interface ProgressRenderer {
  /** Whether anything is drawn (see `enabled`). When false, `onProgress` and `stop` do nothing. */
  readonly enabled: boolean;
  /**
   * Pass it as `forEach`'s `onProgress`; it is bound, so it can be passed on its own. A report of
   * another step ends the current bar and starts a new one.
   */
  onProgress: (progress: ProgressSnapshot) => void;
  /** Ends the bar. Call it when the work is over, also on failure: the bar redraws on a timer until then. */
  stop: () => void;
}

/** `CI=false` or `CI=0` is someone turning CI detection off, not a CI. */
function isCi(env: Readonly<Record<string, string | undefined>>): boolean {
  const value = env.CI;
  return value !== undefined && value !== '' && value !== 'false' && value !== '0';
}

/** Whether a progress bar belongs on `stream`: a terminal that is not a CI log or a dumb terminal. */
export function shouldShowProgress(stream: ProgressStream, env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  return stream.isTTY === true && !isCi(env) && env.TERM !== 'dumb';
}

const SAVE_CURSOR = '\u001b7';
const RESTORE_CURSOR = '\u001b8';

/**
 * `stream` without cursor save and restore. cli-progress saves the cursor where a bar starts and
 * restores it when the bar stops, which moves back up over any line printed meanwhile (a log
 * line, the runner's shutdown notice) and overwrites it with the next output.
 */
function withoutCursorJumps(stream: ProgressStream): NodeJS.WritableStream {
  const filtered = {
    write: (chunk: unknown, ...rest: unknown[]): boolean => {
      if (chunk === SAVE_CURSOR || chunk === RESTORE_CURSOR) return true;
      return (stream.write as (...args: unknown[]) => boolean).call(stream, chunk, ...rest);
    },
    get isTTY() {
      return stream.isTTY;
    },
    get columns() {
      return stream.columns;
    },
  };
  // cli-progress (and readline's cursor calls) use only write, isTTY and columns.
  return filtered as unknown as NodeJS.WritableStream;
}

/**
 * A progress bar for `forEach` and pipeline steps (done/total, rate, ETA, failures), drawn with
 * cli-progress on standard error, and nothing at all when that is not a terminal or `CI` is set.
 * `forEach(items, fn, { progress: true })` makes and stops one for you; make your own to choose
 * the stream, or to combine it with your own `onProgress`.
 *
 * @example
 * const bar = createProgressRenderer();
 * try {
 *   await cp.step('enrich').forEach(docs, enrich, { onProgress: bar.onProgress });
 * } finally {
 *   bar.stop();
 * }
 */
export function createProgressRenderer(options: ProgressRendererOptions = {}): ProgressRenderer {
  const stream = options.stream ?? process.stderr;
  const enabled = options.enabled ?? shouldShowProgress(stream, options.env ?? process.env);
  if (!enabled) return { enabled, onProgress: () => {}, stop: () => {} };
  const barWidth = options.barWidth ?? 24;
  let bar: cliProgress.SingleBar | undefined;
  let step: string | undefined;

  const stop = (): void => {
    bar?.stop();
    bar = undefined;
    step = undefined;
  };

  const onProgress = (progress: ProgressSnapshot): void => {
    if (bar && progress.step !== step) stop();
    if (!bar) {
      step = progress.step;
      bar = new cliProgress.SingleBar({
        stream: withoutCursorJumps(stream),
        // The whole line is ours: the runner's rate and ETA count this run only, which
        // cli-progress cannot know when a resumed run starts with items already done.
        format: (_options, params, payload: { progress: ProgressSnapshot }) =>
          formatProgressLine(payload.progress, { barWidth, maxWidth: params.maxWidth - 1 }),
        // Escape codes that hide the cursor or turn off wrapping would stay in force after a
        // SIGKILL; the line is cut to the terminal's width instead.
        hideCursor: false,
        linewrap: true,
        gracefulExit: false,
      });
      bar.start(progress.total ?? 0, progress.done, { progress });
      return;
    }
    bar.update(progress.done, { progress });
  };

  return { enabled, onProgress, stop };
}
