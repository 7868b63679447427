import { createInterface } from 'node:readline';
import { CheckpointAbortError } from '../core/errors.js';
import type { TextStream } from '../core/platform-types.js';
import { rule, type OptionRule } from '../core/validate-options.js';
import type { CheckpointManager } from '../manager/checkpoint-manager.js';
import { formatDuration } from '../progress/format-progress.js';
import { markResumable } from '../runner/exit-code.js';

/**
 * Where the question is asked: a terminal's input and output, such as `process.stdin` and
 * `process.stderr` (`isTTY` is true on a terminal). Written without Node's types, so that the
 * declarations compile in projects without `@types/node`.
 */
export interface PromptStreams {
  /** A readable stream of text (read through `node:readline`). */
  input: { readonly isTTY?: boolean; on(event: string, listener: (...args: unknown[]) => void): unknown };
  output: TextStream;
}

/**
 * `'auto'`: ask on standard input and standard error when both are terminals; an object: ask on
 * those streams when both are terminals; `false`: never ask.
 */
export type ResumePrompt = 'auto' | false | PromptStreams;

/** What the user chose: go on from the checkpoint, or discard it and start over. */
export type ResumeAnswer = 'resume' | 'restart';

const isStreams = (value: unknown): value is PromptStreams =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as { input?: { on?: unknown } }).input?.on === 'function' &&
  typeof (value as { output?: { write?: unknown } }).output?.write === 'function';

export const PROMPT_RULE: OptionRule = {
  ...rule("'auto', false, or { input, output } streams", (value) => value === 'auto' || value === false || isStreams(value)),
  values: ['auto'],
};

/** Whether anything was done under the checkpoint: a fresh one holds no progress worth asking about. */
function hasProgress(checkpoint: CheckpointManager): boolean {
  const summary = checkpoint.getProgressSummary();
  const items = Object.values(summary.steps).some((step) => step.completed + step.failed + step.inProgress + step.interrupted + step.deadLetter > 0);
  const steps = checkpoint.steps.some((step) => (checkpoint.getStepSummary(step)?.status ?? 'pending') !== 'pending');
  return items || steps || summary.stages.length > 0 || Object.keys(summary.counters).length > 0 || Object.keys(checkpoint.context).length > 0;
}

/** The question, e.g. `A checkpoint exists for fri_level (120 items done, updated 3m 05s ago). Resume (r) / start over (s) / quit (q)?` */
export function resumeQuestion(checkpoint: CheckpointManager, now = Date.now()): string {
  const summary = checkpoint.getProgressSummary();
  const done = Object.values(summary.steps).reduce((sum, step) => sum + step.completed, 0);
  const ago = formatDuration(now - Date.parse(summary.updatedAt));
  const name = checkpoint.pipeline ?? checkpoint.location;
  return `A checkpoint exists for ${name} (${done} item${done === 1 ? '' : 's'} done, updated ${ago} ago). Resume (r) / start over (s) / quit (q)?`;
}

function readAnswer(line: string): ResumeAnswer | 'quit' | undefined {
  const answer = line.trim().toLowerCase();
  if (answer === 'r' || answer === 'resume') return 'resume';
  if (answer === 's' || answer === 'start over' || answer === 'restart') return 'restart';
  if (answer === 'q' || answer === 'quit') return 'quit';
  return undefined;
}

/** Asks until the answer is r, s or q; Ctrl+C and the end of input (Ctrl+D) are a quit. */
function ask(question: string, { input, output }: PromptStreams): Promise<ResumeAnswer | 'quit'> {
  return new Promise((resolve) => {
    const lines = createInterface({ input: input as NodeJS.ReadableStream, output: output as NodeJS.WritableStream, terminal: true });
    let settled = false;
    const finish = (answer: ResumeAnswer | 'quit'): void => {
      if (settled) return;
      settled = true;
      lines.close();
      resolve(answer);
    };
    lines.on('line', (line) => {
      const answer = readAnswer(line);
      if (answer !== undefined) return finish(answer);
      lines.setPrompt('Please answer r (resume), s (start over) or q (quit): ');
      lines.prompt();
    });
    lines.on('SIGINT', () => {
      output.write('\n');
      finish('quit');
    });
    lines.on('close', () => finish('quit'));
    lines.setPrompt(`${question} `);
    lines.prompt();
  });
}

/**
 * Asks whether to resume `checkpoint`, start over or quit — only when it holds progress and
 * both `input` and `output` are terminals. Otherwise (a new checkpoint, piped input in CI or
 * cron) it resolves `'resume'` at once, without writing anything.
 *
 * @returns `'resume'`, or `'restart'` for "start over": the caller then discards the progress
 *   (`await checkpoint.resetAll()`; a Pipeline deletes the checkpoint as with `force`)
 * @throws CheckpointAbortError on "quit", Ctrl+C or the end of input; the checkpoint is left as
 *   it was. Uncaught, it ends the process with exit code 75 (as an interrupted run does).
 *
 * @example
 * const flags = parseCheckpointFlags();
 * const cp = await CheckpointManager.open({ path: 'input_data/pipeline_checkpoint.json' });
 * if (flags.force || (flags.prompt && (await confirmResume(cp)) === 'restart')) await cp.resetAll();
 */
export async function confirmResume(
  checkpoint: CheckpointManager,
  streams: PromptStreams = { input: process.stdin, output: process.stderr },
): Promise<ResumeAnswer> {
  if (streams.input.isTTY !== true || streams.output.isTTY !== true || !hasProgress(checkpoint)) return 'resume';
  const answer = await ask(resumeQuestion(checkpoint), streams);
  if (answer !== 'quit') return answer;
  const name = checkpoint.pipeline ?? checkpoint.location;
  const error = new CheckpointAbortError(`${name}: quit at the prompt; the checkpoint is kept — run again to be asked again, or pass --resume or --force`);
  markResumable(error);
  throw error;
}
