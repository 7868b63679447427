import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { snapshotFormatFor } from '../stores/file/read-checkpoint.js';
import { CliError, NoCheckpointError } from './cli-error.js';
import type { Output } from './output.js';
import { loadForReading, type CheckpointTarget } from './target.js';
import { renderFrame, watchSnapshot, type WatchSnapshot } from './watch-frame.js';
import { logLines, runIsOver } from './watch-log.js';
import { openTerminal, type TerminalSession } from './watch-terminal.js';

/** The fastest refresh: reading a large checkpoint back to back would load the machine it runs on. */
export const MIN_INTERVAL_MS = 100;
export const DEFAULT_INTERVAL_MS = 1000;

export interface WatchOptions {
  intervalMs: number;
  /** Print one frame and return. */
  once: boolean;
}

export interface WatchContext {
  out: Output;
  now(): number;
  stdin: NodeJS.ReadStream;
  stdout: NodeJS.WriteStream;
}

/** One look at the checkpoint; `missing` when it is not there (yet, or any more). */
async function look(target: CheckpointTarget, now: number): Promise<WatchSnapshot | 'missing'> {
  try {
    return watchSnapshot(await loadForReading(target), now);
  } catch (error) {
    // Not created yet, or removed by a run that completed (or a `reset --force` of the pipeline).
    if (error instanceof NoCheckpointError || (error instanceof CliError && target.kind === 'file' && !existsSync(resolve(target.path)))) return 'missing';
    throw error;
  }
}

const missingMessage = (target: CheckpointTarget): string =>
  `${nameOf(target)}: no checkpoint here (no such ${target.kind === 'object' ? 'object' : 'file'}) — check the ${target.kind === 'object' ? 'URL' : 'path'}; a pipeline creates it on its first run`;
const nameOf = (target: CheckpointTarget): string => (target.kind === 'file' ? target.path : target.kind === 'object' ? target.url : 'the checkpoint');

/**
 * `checkpoint-resume watch`: a terminal gets a screen redrawn every interval until q or Ctrl+C,
 * also after the run ends (a new one may start); anything else gets plain lines when something
 * changed, until the run is over. Resolves once it has stopped and the terminal is restored.
 */
export async function watchCheckpoint(target: CheckpointTarget, options: WatchOptions, context: WatchContext): Promise<void> {
  // A path that is not a checkpoint is a usage error before the screen is taken over.
  if (target.kind === 'file') snapshotFormatFor(target.path);
  const interactive = context.stdout.isTTY === true && !options.once;
  const stop = new AbortController();
  const quit = (): void => stop.abort();
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of signals) process.on(signal, quit);
  const terminal = interactive ? openTerminal(context.stdin, context.stdout, quit) : undefined;
  try {
    if (terminal) await watchOnScreen(target, options, context, terminal, stop.signal);
    else await watchAsLog(target, options, context, stop.signal);
  } finally {
    terminal?.restore();
    for (const signal of signals) process.off(signal, quit);
  }
}

async function watchOnScreen(target: CheckpointTarget, options: WatchOptions, context: WatchContext, terminal: TerminalSession, stop: AbortSignal): Promise<void> {
  const { stdout, out } = context;
  let lastFrame: string[] = [];
  let seen = false;
  while (!stop.aborted) {
    const snapshot = await look(target, context.now());
    if (stop.aborted) break;
    const width = stdout.columns || 80;
    // One row spare: the frame ends with a newline, which must not scroll the screen.
    const height = Math.max(1, (stdout.rows || 24) - 1);
    const name = nameOf(target);
    if (snapshot !== 'missing') seen = true;
    lastFrame =
      snapshot === 'missing'
        ? [
            seen
              ? `${name} was removed: the run completed (or the checkpoint was deleted); waiting for a new run — press q to quit`
              : `Waiting for ${name} to appear (a pipeline creates it on its first run) — press q to quit`,
          ]
        : renderFrame(snapshot, { now: context.now(), width, height, intervalMs: options.intervalMs, style: out.style, live: true });
    terminal.draw(lastFrame);
    await pause(options.intervalMs, stop);
  }
  terminal.restore();
  // The last frame stays on the normal screen, so that quitting does not lose what was seen.
  for (const line of lastFrame) out.line(line);
}

async function watchAsLog(target: CheckpointTarget, options: WatchOptions, context: WatchContext, stop: AbortSignal): Promise<void> {
  const { out } = context;
  let previous: WatchSnapshot | null = null;
  while (!stop.aborted) {
    const snapshot = await look(target, context.now());
    if (snapshot === 'missing') {
      // A run that succeeds removes its checkpoint (complete()): that is the end of a good run.
      if (previous === null) throw new CliError(missingMessage(target));
      out.line(`${new Date(context.now()).toISOString()} done: the checkpoint was removed (the run completed, or it was deleted)`);
      return;
    }
    if (options.once) {
      // On a terminal the frame fits its width; in a file or a pipe, lines are whole.
      const width = context.stdout.isTTY ? context.stdout.columns || 80 : Number.POSITIVE_INFINITY;
      const frame = renderFrame(snapshot, { now: context.now(), width, height: Number.POSITIVE_INFINITY, intervalMs: options.intervalMs, style: out.style, live: false });
      for (const line of frame) out.line(line);
      return;
    }
    for (const line of logLines(previous, snapshot, context.now())) out.line(line);
    if (runIsOver(previous, snapshot)) {
      out.line(`${new Date(context.now()).toISOString()} done: no run holds the lock and nothing changed since the last look`);
      return;
    }
    previous = snapshot;
    await pause(options.intervalMs, stop);
  }
}

/** Waits `ms`, or less if the watch is stopped meanwhile. */
async function pause(ms: number, stop: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal: stop });
  } catch {
    // Aborted: the caller sees stop.aborted and ends.
  }
}
