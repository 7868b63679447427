import type { ItemContext } from '../../runner/options.js';
import type { ClaimedItemContext } from './for-each-claimed-options.js';

/** The try's own signal, which also fires when the run's `signal` does. */
export function withStop(own: AbortSignal, stop: AbortSignal | undefined): AbortSignal {
  return stop ? AbortSignal.any([own, stop]) : own;
}

/**
 * What `fn` gets. Its signal is made only if `fn` reads it, as the runner's: with thousands of
 * quick items a second, signals nobody reads cost more than the items.
 */
export class ClaimedContext implements ClaimedItemContext {
  readonly key: string;
  readonly step: string;
  readonly attempt: number;
  readonly #try: ItemContext;
  readonly #stop: AbortSignal | undefined;
  #signal: AbortSignal | undefined;

  constructor(key: string, step: string, attempt: number, context: ItemContext, stop: AbortSignal | undefined) {
    this.key = key;
    this.step = step;
    this.attempt = attempt;
    this.#try = context;
    this.#stop = stop;
  }

  get signal(): AbortSignal {
    this.#signal ??= withStop(this.#try.signal as AbortSignal, this.#stop);
    return this.#signal;
  }
}
