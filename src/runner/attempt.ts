import type { ItemContext } from './options.js';

/**
 * The context `fn` receives. A class, not an object literal with a getter: with millions of
 * quick items, literals with accessors are slow to create and hard on the garbage collector.
 * The AbortController is created only if `fn` reads `signal`.
 */
class AttemptContext implements ItemContext {
  readonly attempt: number;
  readonly step: string;
  #controller: AbortController | undefined;
  #stopped: { reason: unknown } | undefined;

  constructor(attempt: number, step: string) {
    this.attempt = attempt;
    this.step = step;
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#stopped) this.#controller.abort(this.#stopped.reason);
    }
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    this.#stopped = { reason };
    this.#controller?.abort(reason);
  }
}

/**
 * The attempts in flight of one run. Each attempt gets an AbortSignal that fires when its
 * `timeoutMs` runs out or when the group is abandoned; at that moment the attempt's promise
 * rejects with the reason, whether or not the work honours the signal — a stuck call can hold
 * neither the run nor a slot of the concurrency limit. What the work settles with later is ignored.
 *
 * The signal is made lazily and the group keeps its own list instead of one abort listener per
 * attempt: with millions of quick items those would cost more than the items.
 */
export class AttemptGroup {
  readonly #stops = new Set<(reason: unknown) => void>();
  #abandoned: { reason: unknown } | undefined;

  get abandoned(): boolean {
    return this.#abandoned !== undefined;
  }

  /** Settles every attempt in flight now, with `reason`; later attempts reject at once. */
  abandon(reason: unknown): void {
    if (this.#abandoned) return;
    this.#abandoned = { reason };
    for (const stop of [...this.#stops]) stop(reason);
  }

  run<R>(work: (context: ItemContext) => R | PromiseLike<R>, attempt: number, step: string, timeoutMs: number | undefined): Promise<Awaited<R>> {
    if (this.#abandoned) return Promise.reject(this.#abandoned.reason);
    const context = new AttemptContext(attempt, step);
    return new Promise<Awaited<R>>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const cleanup = (): void => {
        if (timer !== undefined) clearTimeout(timer);
        this.#stops.delete(stop);
      };
      const stop = (reason: unknown): void => {
        cleanup();
        reject(reason);
        context.abort(reason);
      };
      this.#stops.add(stop);
      if (timeoutMs !== undefined) timer = setTimeout(() => stop(timeoutError(timeoutMs)), timeoutMs);
      let pending: R | PromiseLike<R>;
      try {
        pending = work(context);
      } catch (error) {
        cleanup();
        reject(error);
        return;
      }
      Promise.resolve(pending).then(
        (value) => {
          cleanup();
          resolve(value as Awaited<R>);
        },
        (error: unknown) => {
          cleanup();
          reject(error);
        },
      );
    });
  }
}

function timeoutError(ms: number): Error {
  // The name matches what AbortSignal.timeout() uses, so code that checks for it keeps working.
  return new DOMException(`the item took longer than timeoutMs (${ms} ms)`, 'TimeoutError');
}
