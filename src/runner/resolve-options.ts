import { CheckpointArgumentError, describeValue } from '../core/errors.js';
import type { ForEachOptions, ForEachProgress } from './options.js';

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

export function resolveOptions(options: ForEachOptions | undefined, defaultSignal: AbortSignal | undefined): ResolvedOptions {
  if (options === undefined) options = {};
  if (typeof options !== 'object' || options === null) {
    throw new CheckpointArgumentError(`Expected \`forEach\` options to be an object, got ${describeValue(options)}`);
  }
  const backoff = options.backoff ?? {};
  if (typeof backoff !== 'object' || backoff === null) {
    throw new CheckpointArgumentError(`Expected \`backoff\` to be an object, got ${describeValue(backoff)}`);
  }
  const resolved: ResolvedOptions = {
    concurrency: integer('concurrency', options.concurrency, 1, 1),
    retries: integer('retries', options.retries, 0, 0, true),
    backoff: {
      initialMs: number('backoff.initialMs', backoff.initialMs, 1000, 0),
      factor: number('backoff.factor', backoff.factor, 2, 1),
      maxMs: number('backoff.maxMs', backoff.maxMs, 30_000, 0),
    },
    retryOn: fn('retryOn', options.retryOn) ?? retryAll,
    failFast: boolean('failFast', options.failFast, false),
    timeoutMs: options.timeoutMs === undefined ? undefined : number('timeoutMs', options.timeoutMs, 0, 1),
    signal: options.signal ?? defaultSignal,
    handleSignals: boolean('handleSignals', options.handleSignals, true),
    shutdownGraceMs: number('shutdownGraceMs', options.shutdownGraceMs, 10_000, 0),
    total: options.total === undefined ? undefined : integer('total', options.total, 0, 0),
    onProgress: fn('onProgress', options.onProgress),
    progressIntervalMs: number('progressIntervalMs', options.progressIntervalMs, 200, 0),
    progress: boolean('progress', options.progress, false),
  };
  if (resolved.signal !== undefined && !(resolved.signal instanceof AbortSignal)) {
    throw new CheckpointArgumentError(`Expected \`signal\` to be an AbortSignal, got ${describeValue(resolved.signal)}`);
  }
  return resolved;
}

function integer(name: string, value: unknown, fallback: number, min: number, allowInfinity = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(Number.isSafeInteger(value) || (allowInfinity && value === Infinity)) || value < min) {
    const what = min === 0 ? 'a non-negative integer' : 'a positive integer';
    throw new CheckpointArgumentError(`Expected \`${name}\` to be ${what}, got ${describeValue(value)}`);
  }
  return value;
}

function number(name: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new CheckpointArgumentError(`Expected \`${name}\` to be a finite number of at least ${min}, got ${describeValue(value)}`);
  }
  return value;
}

function boolean(name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new CheckpointArgumentError(`Expected \`${name}\` to be a boolean, got ${describeValue(value)}`);
  return value;
}

function fn<F>(name: string, value: F | undefined): F | undefined {
  if (value === undefined || typeof value === 'function') return value;
  throw new CheckpointArgumentError(`Expected \`${name}\` to be a function, got ${describeValue(value)}`);
}
