import { PassThrough } from 'node:stream';
import type { PromptStreams } from '../../src/flags/confirm-resume.js';

export interface FakeTerminal extends PromptStreams {
  input: PassThrough;
  /** Everything written to the output so far. */
  written(): string;
  /** Resolves once `text` has been written to the output. */
  waitFor(text: string): Promise<void>;
  /** Types a line, as the user would, Enter included. */
  type(line: string): void;
}

/** Streams that say they are a terminal, with what was written to the output collected. */
export function fakeTerminal(tty = true): FakeTerminal {
  const input = Object.assign(new PassThrough(), { isTTY: tty });
  const output = Object.assign(new PassThrough(), { isTTY: tty });
  let text = '';
  const waiters: { text: string; resolve: () => void }[] = [];
  output.on('data', (chunk: Buffer) => {
    text += chunk.toString();
    for (const waiter of waiters.splice(0)) {
      if (text.includes(waiter.text)) waiter.resolve();
      else waiters.push(waiter);
    }
  });
  return {
    input,
    output,
    written: () => text,
    waitFor: (wanted) => new Promise((resolve) => (text.includes(wanted) ? resolve() : waiters.push({ text: wanted, resolve }))),
    type: (line) => input.write(`${line}\n`),
  };
}

