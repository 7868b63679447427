export type ShutdownSignal = 'SIGINT' | 'SIGTERM';

const SHUTDOWN_SIGNALS: readonly ShutdownSignal[] = ['SIGINT', 'SIGTERM'];

/**
 * A signal this soon after the previous one is the same Ctrl+C delivered twice: `npm run` and
 * `tsx` forward the terminal's SIGINT to a child that already got it from the terminal.
 */
export const REPEATED_SIGNAL_MS = 500;

/**
 * Listens for SIGINT/SIGTERM while a run is going on. Having a listener keeps Node from exiting,
 * so the run can stop gracefully; `onSignal` learns whether this is the first or the second
 * signal. A third signal gives up on grace: our listeners are removed and the signal is raised
 * again, so that Node (or the program's own listeners) handle it as if we had never been there.
 */
export class SignalWatcher {
  readonly #onSignal: (signal: ShutdownSignal, count: 1 | 2) => void;
  #count = 0;
  #lastAt = -Infinity;
  #listening = false;

  constructor(onSignal: (signal: ShutdownSignal, count: 1 | 2) => void) {
    this.#onSignal = onSignal;
  }

  start(): void {
    if (this.#listening) return;
    this.#listening = true;
    for (const signal of SHUTDOWN_SIGNALS) process.on(signal, this.#listener);
  }

  stop(): void {
    if (!this.#listening) return;
    this.#listening = false;
    for (const signal of SHUTDOWN_SIGNALS) process.off(signal, this.#listener);
  }

  readonly #listener = (signal: NodeJS.Signals): void => {
    const now = Date.now();
    const repeated = now - this.#lastAt < REPEATED_SIGNAL_MS;
    this.#lastAt = now;
    if (repeated) return;
    this.#count++;
    if (this.#count <= 2) {
      this.#onSignal(signal as ShutdownSignal, this.#count as 1 | 2);
      return;
    }
    this.stop();
    process.kill(process.pid, signal);
  };
}
