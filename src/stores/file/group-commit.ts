const RESOLVED = Promise.resolve();

/**
 * Group commit: requests that arrive while a commit is running share the next one, so that 16
 * concurrent marks cost one write and one fsync rather than sixteen.
 */
export class GroupCommit {
  readonly #commit: () => Promise<void>;
  #next: { promise: Promise<void>; resolve: () => void; reject: (error: unknown) => void } | undefined;
  #running: Promise<void> | undefined;

  constructor(commit: () => Promise<void>) {
    this.#commit = commit;
  }

  /** Resolves once a commit that started after this call has finished. */
  request(): Promise<void> {
    if (!this.#next) {
      let resolve!: () => void;
      let reject!: (error: unknown) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.#next = { promise, resolve, reject };
      this.#running ??= this.#loop();
    }
    return this.#next.promise;
  }

  /** Resolves when no commit is running or waiting. Never rejects. */
  idle(): Promise<void> {
    return this.#running ?? RESOLVED;
  }

  async #loop(): Promise<void> {
    // Let the requests made in this same tick join the first commit.
    await null;
    while (this.#next) {
      const waiting = this.#next;
      this.#next = undefined;
      try {
        await this.#commit();
        waiting.resolve();
      } catch (error) {
        waiting.reject(error);
      }
    }
    this.#running = undefined;
  }
}
