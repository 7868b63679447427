import type { Pool } from 'pg';
import { CheckpointArgumentError } from '../../core/errors.js';
import { checkOptions, MAX_TIMER_MS, pickOptions, rule, rules, type OptionRule } from '../../core/validate-options.js';
import type { RetryOptions } from './connection.js';
import type { ClaimOptions, PostgresDurability, PostgresStoreOptions } from './options.js';
import { tablesIn, type Tables } from './tables.js';

export interface ResolvedStoreOptions {
  connectionString: string | undefined;
  pool: Pool | undefined;
  tables: Tables;
  pipeline: string;
  run: string;
  durability: PostgresDurability;
  batchSize: number;
  batchIntervalMs: number;
  retry: RetryOptions | undefined;
}

/** A string PostgreSQL can store: text columns cannot hold NUL characters. */
const text = (expected: string, nonEmpty: boolean): OptionRule =>
  rule(expected, (value) => typeof value === 'string' && !value.includes('\u0000') && (!nonEmpty || value !== ''));

/** Every option of PostgresStore with its rule. */
const POSTGRES_STORE_OPTIONS = {
  // Never shown in a message: it may hold a password.
  connectionString: rules.secret(rules.nonEmptyString),
  pool: rule('a pg Pool (an object with a connect function)', (value) => typeof value === 'object' && value !== null && typeof (value as { connect?: unknown }).connect === 'function'),
  // What makes a schema name safe is checked by `tablesIn`, with its own message.
  schema: rules.string,
  pipeline: rules.required(text('a non-empty string without NUL characters', true)),
  runId: text('a string without NUL characters', false),
  durability: rules.oneOf('full', 'normal', 'batched'),
  batchSize: rules.number({ min: 1 }),
  batchIntervalMs: rules.number({ min: 1, max: MAX_TIMER_MS }),
  retry: rules.object({
    retries: rules.number({ min: 0 }),
    initialMs: rules.number({ min: 0, max: MAX_TIMER_MS, integer: false }),
    maxMs: rules.number({ min: 0, max: MAX_TIMER_MS, integer: false }),
  } satisfies Record<keyof RetryOptions, OptionRule>),
} as const satisfies Record<keyof PostgresStoreOptions, OptionRule>;

/** Checks PostgresStore options up front, with the library's argument messages, and fills in defaults. */
export function resolveStoreOptions(options: PostgresStoreOptions): ResolvedStoreOptions {
  checkOptions(options, POSTGRES_STORE_OPTIONS, 'PostgresStore');
  const { connectionString, pool, pipeline, runId = '', retry } = options;
  if ((connectionString === undefined) === (pool === undefined)) {
    throw new CheckpointArgumentError('Expected exactly one of `connectionString` and `pool`');
  }
  return {
    connectionString,
    pool,
    tables: tablesIn(options.schema ?? 'checkpointer'),
    pipeline,
    run: runId,
    durability: options.durability ?? 'full',
    batchSize: options.batchSize ?? 100,
    batchIntervalMs: options.batchIntervalMs ?? 1000,
    // Without its undefined values: the connection spreads it over its defaults.
    retry: retry === undefined ? undefined : (pickOptions(retry, POSTGRES_STORE_OPTIONS.retry.options!) as RetryOptions),
  };
}

/** The options of a work queue's `claim` with their rules; its `forEach` takes `batchSize` and `leaseMs` by the same. */
export const CLAIM_OPTIONS = {
  batchSize: rules.number({ min: 1 }),
  // The heartbeat runs every leaseMs / 3: a timer must be able to wait that long.
  leaseMs: rules.number({ min: 1, max: MAX_TIMER_MS }),
  retryFailed: rules.boolean,
} as const satisfies Record<keyof ClaimOptions, OptionRule>;
