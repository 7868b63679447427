import type { ResolvedOptions } from './resolve-options.js';

/**
 * The delay before retry number `retry` (1 = first retry): uniform between 0 and
 * `min(maxMs, initialMs * factor ** (retry - 1))`. Full jitter spreads the retries of many
 * items that failed together (a rate limit, a blip) instead of sending them back in waves.
 */
export function backoffDelay(retry: number, backoff: ResolvedOptions['backoff'], random: () => number = Math.random): number {
  const cap = Math.min(backoff.maxMs, backoff.initialMs * backoff.factor ** (retry - 1));
  return Math.floor(random() * cap);
}

/** Waits `ms`, or rejects with the signal's reason as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
