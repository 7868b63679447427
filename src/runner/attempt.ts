/**
 * Runs one attempt of an item. The attempt gets its own AbortSignal, which fires when `abandon`
 * fires or `timeoutMs` runs out; at that moment the returned promise rejects with the signal's
 * reason, whether or not `work` honours the signal — a stuck call can hold neither the run nor a
 * slot of the concurrency limit. Whatever `work` settles with later is ignored.
 */
export function runAttempt<R>(
  work: (signal: AbortSignal) => R | PromiseLike<R>,
  abandon: AbortSignal,
  timeoutMs: number | undefined,
): Promise<Awaited<R>> {
  if (abandon.aborted) return Promise.reject(abandon.reason);
  const controller = new AbortController();
  return new Promise<Awaited<R>>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const cleanup = (): void => {
      if (timer !== undefined) clearTimeout(timer);
      abandon.removeEventListener('abort', onAbandon);
    };
    const stop = (reason: unknown): void => {
      cleanup();
      reject(reason);
      controller.abort(reason);
    };
    const onAbandon = (): void => stop(abandon.reason);
    abandon.addEventListener('abort', onAbandon, { once: true });
    if (timeoutMs !== undefined) timer = setTimeout(() => stop(timeoutError(timeoutMs)), timeoutMs);
    let pending: PromiseLike<Awaited<R>> | Awaited<R>;
    try {
      pending = work(controller.signal) as PromiseLike<Awaited<R>> | Awaited<R>;
    } catch (error) {
      cleanup();
      reject(error);
      return;
    }
    Promise.resolve(pending).then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (error: unknown) => {
        cleanup();
        reject(error);
      },
    );
  });
}

function timeoutError(ms: number): Error {
  // The name matches what AbortSignal.timeout() uses, so code that checks for it keeps working.
  return new DOMException(`the item took longer than timeoutMs (${ms} ms)`, 'TimeoutError');
}
