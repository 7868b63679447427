/**
 * The terminal side of `watch`: an alternate screen redrawn in place, keys read one at a time,
 * and the terminal given back exactly as it was on every way out.
 */

const ESC = '\u001b[';
const ENTER_SCREEN = `${ESC}?1049h${ESC}?25l`;
const LEAVE_SCREEN = `${ESC}?25h${ESC}?1049l`;
const CTRL_C = '\u0003';

export interface TerminalSession {
  /** Draws a frame over the previous one. */
  draw(lines: readonly string[]): void;
  /** Gives the terminal back: the normal screen, the cursor, line mode on stdin. Safe to call twice. */
  restore(): void;
}

/**
 * Takes over the terminal: `onQuit` is called for q, Q or Ctrl+C (which raw mode delivers as a
 * key, not a signal). Without a terminal on stdin, keys are not read and Ctrl+C stays a signal.
 */
export function openTerminal(stdin: NodeJS.ReadStream, stdout: NodeJS.WriteStream, onQuit: () => void): TerminalSession {
  const readsKeys = stdin.isTTY === true && typeof stdin.setRawMode === 'function';
  const onData = (chunk: Buffer | string): void => {
    const keys = chunk.toString();
    if (keys.includes('q') || keys.includes('Q') || keys.includes(CTRL_C)) onQuit();
  };
  let restored = false;
  const restore = (): void => {
    if (restored) return;
    restored = true;
    if (readsKeys) {
      stdin.off('data', onData);
      stdin.setRawMode(false);
      // Stop reading, or the open stdin would keep the process alive.
      stdin.pause();
    }
    process.off('exit', restore);
    stdout.write(LEAVE_SCREEN);
  };
  // The last resort: an exit nobody planned (an uncaught error) still leaves a usable terminal.
  process.on('exit', restore);
  stdout.write(ENTER_SCREEN);
  if (readsKeys) {
    stdin.setRawMode(true);
    stdin.on('data', onData);
    stdin.resume();
  }
  return {
    draw(lines) {
      // Home, each line clearing what the previous frame left to its right, then clear below.
      stdout.write(`${ESC}H${lines.map((line) => `${line}${ESC}K`).join('\n')}\n${ESC}J`);
    },
    restore,
  };
}
