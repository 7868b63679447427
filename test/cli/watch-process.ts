import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { CLI_BUNDLE } from '../support/cli-bundle.js';
import { ChildWorker } from '../support/processes.js';

/** Helpers of the `watch` tests: a run the test drives, a terminal, and the CLI on a pipe. */

const HOLDER = join(dirname(fileURLToPath(import.meta.url)), 'watch-holder.ts');

/** The environment of the CLI under test: colour decided by the output alone. */
export const cliEnv = (): NodeJS.ProcessEnv => ({ ...process.env, NO_COLOR: undefined, FORCE_COLOR: undefined });

/** A run holding `path`'s lock, which completes or fails items only when told to (see watch-holder.ts). */
export class DrivenRun {
  readonly worker: ChildWorker;
  #sent = 0;

  private constructor(worker: ChildWorker) {
    this.worker = worker;
  }

  /** Opens the checkpoint, e.g. `DrivenRun.start(path, 'enrich=20', 'summarise=none')`. */
  static async start(path: string, ...totals: string[]): Promise<DrivenRun> {
    const run = new DrivenRun(new ChildWorker(HOLDER, [path, ...totals]));
    await run.worker.waitForLine((line) => line.startsWith('ready '));
    return run;
  }

  get pid(): number {
    return this.worker.pid;
  }

  /** Sends a command and resolves once the run has written and flushed what it asked. */
  async send(command: string): Promise<void> {
    const answer = `done ${++this.#sent}`;
    this.worker.process.stdin!.write(`${command}\n`);
    await this.worker.waitForLine((line) => line === answer);
  }

  /** Closes the checkpoint (the lock is released) and waits for the process to end; `finish` ends the run with complete(). */
  async close(how: 'close' | 'finish' = 'close'): Promise<void> {
    this.worker.process.stdin!.write(`${how}\n`);
    await this.worker.waitForLine((line) => line === 'closed');
    await this.worker.exited;
  }
}

/** Fails loudly when tmux is missing: these tests must not pass by not running. */
export function requireTmux(): void {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
  } catch {
    throw new Error('tmux is needed by the terminal tests of "watch" and is not installed: install it (apt-get install -y tmux)');
  }
}

let panes = 0;

/** A real terminal: a detached tmux session of 120 × 30 on a server of its own. */
export class TmuxPane {
  readonly #socket = `checkpointer-watch-${process.pid}-${panes++}`;

  constructor(shellCommand: string) {
    execFileSync('tmux', ['-L', this.#socket, '-f', '/dev/null', 'new-session', '-d', '-x', '120', '-y', '30', shellCommand], { env: cliEnv() });
  }

  #tmux(...args: string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile('tmux', ['-L', this.#socket, ...args], (error, stdout) => (error ? reject(error) : resolve(stdout)));
    });
  }

  /** The screen as text, colour removed. */
  screen(): Promise<string> {
    return this.#tmux('capture-pane', '-p');
  }

  /** A tmux format of the pane, e.g. `#{alternate_on}`. */
  async show(format: string): Promise<string> {
    return (await this.#tmux('display-message', '-p', format)).trim();
  }

  sendKeys(...keys: string[]): Promise<string> {
    return this.#tmux('send-keys', ...keys);
  }

  /**
   * Resolves with the screen once `match` accepts it. Looking again every few milliseconds is
   * the only way to see a terminal change; the test's own time limit ends a wait that never ends.
   */
  async waitForScreen(match: (screen: string) => boolean): Promise<string> {
    for (;;) {
      const screen = await this.screen();
      if (match(screen)) return screen;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  kill(): void {
    try {
      execFileSync('tmux', ['-L', this.#socket, 'kill-server'], { stdio: 'ignore' });
    } catch {
      // Already gone.
    }
  }
}

const quote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

/**
 * The shell command a pane runs: `watch` with `args`, then whether it exited and how, and whether
 * the terminal's settings are those it had before (raw mode undone); then it stays on screen.
 */
export function watchInShell(args: string[]): string {
  const watch = [process.execPath, CLI_BUNDLE, 'watch', ...args].map(quote).join(' ');
  return `before=$(stty -g); ${watch}; code=$?; if [ "$(stty -g)" = "$before" ]; then t="TERMINAL RESTORED"; else t="TERMINAL CHANGED"; fi; echo "EXITED $code $t"; exec sleep 100000`;
}

/** `watch` with its output to a pipe, read line by line. */
export class PipedWatch {
  readonly process: ChildProcess;
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<number | null>;
  #listeners: Array<() => void> = [];

  constructor(args: string[], env: NodeJS.ProcessEnv = {}) {
    this.process = spawn(process.execPath, [CLI_BUNDLE, 'watch', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...cliEnv(), ...env } });
    this.process.stderr!.setEncoding('utf8').on('data', (chunk: string) => (this.stderr += chunk));
    createInterface({ input: this.process.stdout! }).on('line', (line) => {
      this.lines.push(line);
      for (const listener of this.#listeners) listener();
    });
    this.exited = new Promise((resolve) => this.process.on('close', (code) => resolve(code)));
  }

  /** Resolves with the first line `match` accepts, seen or still to come. */
  waitForLine(match: (line: string) => boolean): Promise<string> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const line = this.lines.find(match);
        if (line !== undefined) resolve(line);
        return line !== undefined;
      };
      if (check()) return;
      this.#listeners.push(check);
      void this.exited.then(() => check() || reject(new Error(`watch exited before a matching line; got:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}`)));
    });
  }
}
