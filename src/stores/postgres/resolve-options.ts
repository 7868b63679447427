import type { Pool } from 'pg';
import { CheckpointArgumentError, describeValue } from '../../core/errors.js';
import type { RetryOptions } from './connection.js';
import type { PostgresDurability, PostgresStoreOptions } from './options.js';
import { tablesIn, type Tables } from './tables.js';
import { positiveInteger } from './validate.js';

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

/** Checks PostgresStore options up front, with the library's argument messages, and fills in defaults. */
export function resolveStoreOptions(options: PostgresStoreOptions): ResolvedStoreOptions {
  if (typeof options !== 'object' || options === null) {
    throw new CheckpointArgumentError(`Expected PostgresStore options to be an object, got ${describeValue(options)}`);
  }
  const { connectionString, pool, pipeline, runId = '' } = options;
  if ((connectionString === undefined) === (pool === undefined)) {
    throw new CheckpointArgumentError('Expected exactly one of `connectionString` and `pool`');
  }
  if (connectionString !== undefined && (typeof connectionString !== 'string' || connectionString === '')) {
    // Not describeValue: the value may hold a password.
    throw new CheckpointArgumentError(`Expected \`connectionString\` to be a non-empty string, got ${typeof connectionString}`);
  }
  if (typeof pipeline !== 'string' || pipeline === '' || pipeline.includes('\u0000')) {
    throw new CheckpointArgumentError(`Expected \`pipeline\` to be a non-empty string, got ${describeValue(pipeline)}`);
  }
  if (typeof runId !== 'string' || runId.includes('\u0000')) {
    throw new CheckpointArgumentError(`Expected \`runId\` to be a string, got ${describeValue(runId)}`);
  }
  const durability = options.durability ?? 'full';
  if (!['full', 'normal', 'batched'].includes(durability)) {
    throw new CheckpointArgumentError(`Expected \`durability\` to be one of full, normal, batched, got ${describeValue(durability)}`);
  }
  return {
    connectionString,
    pool,
    tables: tablesIn(options.schema ?? 'checkpointer'),
    pipeline,
    run: runId,
    durability,
    batchSize: positiveInteger('batchSize', options.batchSize ?? 100),
    batchIntervalMs: positiveInteger('batchIntervalMs', options.batchIntervalMs ?? 1000),
    retry: options.retry,
  };
}
