import { CheckpointArgumentError, describeValue } from '../core/errors.js';

/**
 * Hands out the items of an array, iterable or async iterable one at a time, pulling from the
 * input only when asked: a stream of ten million items is never held in memory.
 */
export class ItemSource<T> {
  /**
   * How many items the input has, when it says so without being read: an array's (or typed
   * array's) `length`, a Set's or Map's `size`.
   */
  readonly size: number | undefined;
  readonly #iterator: Iterator<T> | AsyncIterator<T>;
  readonly #async: boolean;
  // Pulls from an async iterator are chained, so that a hand-written iterator is never asked for
  // its next item while the previous request is still pending.
  #tail: Promise<unknown> = Promise.resolve();
  #done = false;

  constructor(items: Iterable<T> | AsyncIterable<T>) {
    if (typeof items === 'string' || typeof items !== 'object' || items === null) {
      throw new CheckpointArgumentError(`Expected \`items\` to be an array, an iterable or an async iterable, got ${describeValue(items)}`);
    }
    this.size = sizeOf(items);
    if (Symbol.asyncIterator in items && typeof items[Symbol.asyncIterator] === 'function') {
      this.#iterator = items[Symbol.asyncIterator]();
      this.#async = true;
    } else if (Symbol.iterator in items && typeof items[Symbol.iterator] === 'function') {
      this.#iterator = items[Symbol.iterator]();
      this.#async = false;
    } else {
      throw new CheckpointArgumentError(`Expected \`items\` to be an array, an iterable or an async iterable, got ${describeValue(items)}`);
    }
  }

  /**
   * The next item, or `undefined` once the input is exhausted or `stop` fires: a slow stream
   * (a network read, a paused producer) must not hold up a shutdown.
   */
  async next(stop: AbortSignal): Promise<{ item: T } | undefined> {
    if (this.#done || stop.aborted) return undefined;
    let result: IteratorResult<T> | undefined;
    if (this.#async) {
      const pulled = this.#tail.then(() => this.#iterator.next());
      this.#tail = pulled.catch(() => undefined);
      result = await untilStopped(pulled, stop);
      if (!result) return undefined;
    } else {
      result = (this.#iterator as Iterator<T>).next();
    }
    if (result.done) {
      this.#done = true;
      return undefined;
    }
    return { item: result.value };
  }

  /** Lets the input release what it holds (a generator's `finally`, a file stream) when the run stops early. */
  close(): void {
    if (this.#done) return;
    this.#done = true;
    const iterator = this.#iterator;
    // Not awaited: a pull may still be pending on a stream that never answers.
    this.#tail.then(() => iterator.return?.()).catch(() => undefined);
  }
}

function untilStopped<V>(promise: Promise<V>, stop: AbortSignal): Promise<V | undefined> {
  return new Promise<V | undefined>((resolve, reject) => {
    const onStop = (): void => resolve(undefined);
    stop.addEventListener('abort', onStop, { once: true });
    promise.then(
      (value) => {
        stop.removeEventListener('abort', onStop);
        resolve(value);
      },
      (error: unknown) => {
        stop.removeEventListener('abort', onStop);
        reject(error);
      },
    );
  });
}

function sizeOf(items: object): number | undefined {
  if (Array.isArray(items) || ArrayBuffer.isView(items)) return (items as { length: number }).length;
  if (items instanceof Set || items instanceof Map) return items.size;
  return undefined;
}
