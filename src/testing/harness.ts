import { CheckpointManager } from '../manager/checkpoint-manager.js';
import type { CheckpointOptions, Logger } from '../manager/options.js';
import type { CheckpointStore } from '../stores/store.js';

/**
 * The few matchers the suite uses. Typed structurally so that vitest's, jest's or bun's `expect`
 * fits without checkpointer depending on any of them.
 */
export interface Assertion {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toContain(expected: unknown): void;
  toMatch(expected: RegExp | string): void;
  readonly not: Assertion;
}

/** The test runner's functions, e.g. `{ describe, it, expect }` from vitest. */
export interface TestRunner {
  describe(name: string, body: () => void): void;
  it(name: string, body: () => Promise<void>, timeout?: number): void;
  expect(actual: unknown): Assertion;
  /** Optional; when given, per-test clean-up runs in it instead of at the end of each test body. */
  beforeEach?(hook: () => unknown): void;
  afterEach?(hook: () => unknown): void;
}

/**
 * Hands out store instances that all point at the same persisted checkpoint: closing a manager
 * and opening a new one on `create()` simulates a resume.
 */
export interface StoreFactory {
  create(): CheckpointStore | Promise<CheckpointStore>;
  /** Deletes whatever the checkpoint left behind (temp directory, table, …). */
  cleanup?(): void | Promise<void>;
}

export interface StoreConformanceOptions {
  /** Names the store in the test titles. */
  name: string;
  /** Called once per test: a factory for a new, empty checkpoint. */
  createStore(): StoreFactory | Promise<StoreFactory>;
  /**
   * How many items the volume test marks.
   * @default 5000
   */
  volume?: number;
  /**
   * Timeout of each test in milliseconds, for slow stores; the runner's default when omitted.
   */
  timeout?: number;
}

/** Manager options the suite may set: everything except where the checkpoint lives. */
export type OpenOptions = Omit<CheckpointOptions, 'store' | 'path'>;

/** One test's checkpoint: opens managers on fresh stores from the factory and closes them all at the end. */
export class Fixture {
  readonly #factory: StoreFactory;
  readonly #managers: CheckpointManager[] = [];
  /** Everything the managers logged, so that a test can look at warnings. */
  readonly logs: string[] = [];
  readonly logger: Logger = {
    warn: (message) => this.logs.push(`warn ${message}`),
    error: (message) => this.logs.push(`error ${message}`),
  };

  constructor(factory: StoreFactory) {
    this.#factory = factory;
  }

  async store(): Promise<CheckpointStore> {
    return this.#factory.create();
  }

  /** Opens the checkpoint through a new store instance. */
  async open(options: OpenOptions = {}): Promise<CheckpointManager> {
    const manager = await CheckpointManager.open({ logger: this.logger, ...options, store: await this.store() });
    this.#managers.push(manager);
    return manager;
  }

  /** Closes `manager` and opens the checkpoint again, as a resumed run would. */
  async reopen(manager: CheckpointManager, options: OpenOptions = {}): Promise<CheckpointManager> {
    await manager.close();
    return this.open(options);
  }

  async dispose(): Promise<void> {
    for (const manager of this.#managers) await manager.close().catch(() => {});
    await this.#factory.cleanup?.();
  }
}

/** What each part of the suite gets: the runner and a way to declare a test with its own fixture. */
export interface Suite {
  readonly runner: TestRunner;
  readonly volume: number;
  expect(actual: unknown): Assertion;
  test(name: string, body: (fixture: Fixture) => Promise<void>, timeout?: number): void;
}

export function createSuite(runner: TestRunner, options: StoreConformanceOptions): Suite {
  let current: Fixture | undefined;
  if (runner.afterEach) {
    runner.afterEach(async () => {
      const fixture = current;
      current = undefined;
      await fixture?.dispose();
    });
  }
  return {
    runner,
    volume: options.volume ?? 5000,
    expect: (actual) => runner.expect(actual),
    test(name, body, timeout) {
      runner.it(
        name,
        async () => {
          const fixture = new Fixture(await options.createStore());
          if (runner.afterEach) {
            current = fixture;
            await body(fixture);
            return;
          }
          try {
            await body(fixture);
          } finally {
            await fixture.dispose();
          }
        },
        timeout ?? options.timeout,
      );
    },
  };
}

/** Awaits `promise`, which must reject, and returns its error (as `unknown`: the caller checks it). */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

/** The `code` of a checkpointer error, compared by value so that a second copy of the classes still matches. */
export function codeOf(error: unknown): unknown {
  return typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
}
