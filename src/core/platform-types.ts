/**
 * Types of the platform that the public API names, written so that the package's type
 * declarations compile in any TypeScript project: with Node's types (`@types/node`), with the
 * DOM's, or with neither.
 */

/**
 * An AbortSignal: the platform's own where its types are known (so that a signal handed to your
 * code can go straight on to `fetch` or an SDK), otherwise the part of it checkpointer uses.
 */
export type AbortSignalLike = typeof globalThis extends { AbortSignal: { prototype: infer Signal } }
  ? Signal
  : {
      readonly aborted: boolean;
      readonly reason: unknown;
      addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
      removeEventListener(type: 'abort', listener: () => void): void;
      throwIfAborted(): void;
    };

/** What a progress bar needs of a stream (`process.stderr` has it): a terminal when `isTTY` is true, `columns` wide. */
export interface TextStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

declare global {
  interface SymbolConstructor {
    /** Declared here too, so that `await using` types without `lib: ["esnext"]` or `@types/node`. */
    readonly asyncDispose: unique symbol;
  }
}
