import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Waiter {
  match: (line: string) => boolean;
  resolve: (line: string) => void;
}

/**
 * A TypeScript child process (run through tsx) that reports what it does one line at a time on
 * stdout. Stdout is a pipe, and a child's writes to a pipe land in the kernel's buffer at once,
 * so every line written before a SIGKILL still reaches the parent.
 */
export class ChildWorker {
  readonly process: ChildProcess;
  readonly lines: string[] = [];
  readonly exited: Promise<Exit>;
  readonly startedAt = performance.now();
  stderr = '';
  #waiters: Waiter[] = [];
  #listeners: Array<(line: string) => void> = [];
  #exit: Exit | undefined;

  /**
   * @param options.wrapper a command the node process is started through, e.g. one that gives it
   *   a host name of its own (`unshare -u`); `{}` is replaced by node's command line
   */
  constructor(script: string, args: string[], options: { env?: NodeJS.ProcessEnv; wrapper?: string[] } = {}) {
    const command = [process.execPath, '--import', 'tsx', script, ...args];
    const [file, ...rest] = options.wrapper ? options.wrapper.flatMap((part) => (part === '{}' ? command : [part])) : command;
    this.process = spawn(file!, rest, { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
    this.process.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    const lines = createInterface({ input: this.process.stdout! });
    lines.on('line', (line) => this.#receive(line));
    // 'close' (unlike 'exit') comes after stdout has been read to the end.
    this.exited = new Promise((resolve) => {
      this.process.on('close', (code, signal) => {
        this.#exit = { code, signal };
        resolve(this.#exit);
      });
    });
  }

  get pid(): number {
    return this.process.pid!;
  }

  get exit(): Exit | undefined {
    return this.#exit;
  }

  /** Calls `listener` with every line, synchronously as it arrives (so it can kill at once). */
  onLine(listener: (line: string) => void): void {
    this.#listeners.push(listener);
  }

  /**
   * Resolves with the first line (already received or still to come) that `match` accepts;
   * rejects if the child exits first. No time limit: the test's own limit ends a hang.
   */
  waitForLine(match: (line: string) => boolean): Promise<string> {
    const seen = this.lines.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const entry: Waiter = { match, resolve };
      this.#waiters.push(entry);
      void this.exited.then(() => {
        if (!this.#waiters.includes(entry)) return;
        this.#waiters = this.#waiters.filter((waiter) => waiter !== entry);
        reject(new Error(`the child exited (${JSON.stringify(this.#exit)}) before a matching line; got:\n${this.lines.slice(-20).join('\n')}\nstderr:\n${this.stderr}`));
      });
    });
  }

  /** Sends SIGKILL (if still running) and resolves once the child is gone. */
  async kill(): Promise<Exit> {
    if (!this.#exit) this.process.kill('SIGKILL');
    return this.exited;
  }

  #receive(line: string): void {
    this.lines.push(line);
    for (const listener of this.#listeners) listener(line);
    for (const waiter of this.#waiters.filter((candidate) => candidate.match(line))) {
      this.#waiters = this.#waiters.filter((candidate) => candidate !== waiter);
      waiter.resolve(line);
    }
  }
}

/** A small seeded random generator (mulberry32), so that a failing kill schedule can be replayed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
