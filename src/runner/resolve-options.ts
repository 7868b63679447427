import { checkOptions, MAX_TIMER_MS, rules, type OptionRule } from '../core/validate-options.js';
import type { BackoffOptions, ForEachOptions, ForEachProgress } from './options.js';

/** Options with their defaults applied and their values checked. */
export interface ResolvedOptions {
  concurrency: number;
  retries: number;
  backoff: { initialMs: number; factor: number; maxMs: number };
  retryOn: (error: unknown) => boolean;
  failFast: boolean;
  timeoutMs: number | undefined;
  signal: AbortSignal | undefined;
  handleSignals: boolean;
  shutdownGraceMs: number;
  total: number | undefined;
  onProgress: ((progress: ForEachProgress) => void) | undefined;
  progressIntervalMs: number;
  progress: boolean;
}

const retryAll = (): boolean => true;

/** Every option of `forEach` with its rule; PostgreSQL's `forEach` of a work queue takes some of them too. */
export const FOR_EACH_OPTIONS = {
  concurrency: rules.number({ min: 1 }),
  retries: rules.number({ min: 0, infinity: true }),
  backoff: rules.object({
    initialMs: rules.number({ min: 0, integer: false }),
    factor: rules.number({ min: 1, integer: false }),
    // The delay never exceeds maxMs, so this bound keeps every delay one setTimeout can wait.
    maxMs: rules.number({ min: 0, max: MAX_TIMER_MS, integer: false }),
  } satisfies Record<keyof BackoffOptions, OptionRule>),
  retryOn: rules.function,
  failFast: rules.boolean,
  timeoutMs: rules.number({ min: 1, max: MAX_TIMER_MS, integer: false }),
  signal: rules.abortSignal,
  handleSignals: rules.boolean,
  shutdownGraceMs: rules.number({ min: 0, max: MAX_TIMER_MS, integer: false }),
  total: rules.number({ min: 0 }),
  onProgress: rules.function,
  progress: rules.boolean,
  progressIntervalMs: rules.number({ min: 0, integer: false }),
} as const satisfies Record<keyof ForEachOptions, OptionRule>;

export function resolveOptions(options: ForEachOptions | undefined, defaultSignal: AbortSignal | undefined): ResolvedOptions {
  if (options === undefined) options = {};
  checkOptions(options, FOR_EACH_OPTIONS, 'forEach');
  return {
    concurrency: options.concurrency ?? 1,
    retries: options.retries ?? 0,
    backoff: resolveBackoff(options.backoff),
    retryOn: options.retryOn ?? retryAll,
    failFast: options.failFast ?? false,
    timeoutMs: options.timeoutMs,
    signal: options.signal ?? defaultSignal,
    handleSignals: options.handleSignals ?? true,
    shutdownGraceMs: options.shutdownGraceMs ?? 10_000,
    total: options.total,
    onProgress: options.onProgress,
    progressIntervalMs: options.progressIntervalMs ?? 200,
    progress: options.progress ?? false,
  };
}

/** The delays between retries, with their defaults. */
export function resolveBackoff(backoff: BackoffOptions = {}): ResolvedOptions['backoff'] {
  return { initialMs: backoff.initialMs ?? 1000, factor: backoff.factor ?? 2, maxMs: backoff.maxMs ?? 30_000 };
}
