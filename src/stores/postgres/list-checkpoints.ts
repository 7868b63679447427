import type { Pool } from 'pg';
import { CheckpointArgumentError, CheckpointStoreError } from '../../core/errors.js';
import { describeConnection, PostgresConnection, type RetryOptions } from './connection.js';
import type { StepItemCounts } from './options.js';
import { tablesIn } from './tables.js';
import { decodeText } from './text-codec.js';

export interface ListCheckpointsOptions {
  /** Give this or `pool`, as for the store. */
  connectionString?: string;
  pool?: Pool;
  /** @default 'checkpointer' */
  schema?: string;
  retry?: RetryOptions;
}

/** One checkpoint in a schema, as `PostgresStore.list` returns it. */
export interface CheckpointListing {
  /** The store's `pipeline`. */
  pipeline: string;
  /** The store's `runId` ('' when none was given). */
  runId: string;
  createdAt: string;
  /** The latest of the saved metadata and the items' changes. */
  updatedAt: string;
  /** Items of all its steps by state, registered items that nobody started included. */
  items: StepItemCounts;
}

interface ListingRow {
  pipeline: string;
  run: string;
  created_at: string;
  updated_at: string;
  items_at: number | null;
  pending: number;
  in_progress: number;
  completed: number;
  failed: number;
  dead_letter: number;
}

/**
 * Lists the checkpoints in a schema without creating tables or taking locks; a schema where
 * nothing was saved yet has none.
 */
export async function listCheckpoints(options: ListCheckpointsOptions): Promise<CheckpointListing[]> {
  const { connectionString, pool } = options;
  if ((connectionString === undefined) === (pool === undefined)) {
    throw new CheckpointArgumentError('Expected exactly one of `connectionString` and `pool`');
  }
  const tables = tablesIn(options.schema ?? 'checkpointer');
  const location = `${describeConnection(connectionString)} ${tables.schema}`;
  const connection = new PostgresConnection({ connectionString, pool, retry: options.retry, location });
  let rows: ListingRow[];
  try {
    rows = await connection.query<ListingRow>(
      'listing the checkpoints',
      `SELECT c.pipeline, c.run, c.metadata->>'createdAt' AS created_at, c.metadata->>'updatedAt' AS updated_at,
         (extract(epoch FROM counts.at) * 1000)::float8 AS items_at,
         counts.pending, counts.in_progress, counts.completed, counts.failed, counts.dead_letter
       FROM ${tables.checkpoints} c CROSS JOIN LATERAL (
         SELECT max(i.updated_at) AS at,
           count(*) FILTER (WHERE i.status = 'pending')::int AS pending,
           count(*) FILTER (WHERE i.status = 'in_progress')::int AS in_progress,
           count(*) FILTER (WHERE i.status = 'completed')::int AS completed,
           count(*) FILTER (WHERE i.status = 'failed')::int AS failed,
           count(*) FILTER (WHERE i.status = 'dead_letter')::int AS dead_letter
         FROM ${tables.steps} s JOIN ${tables.items} i ON i.step_id = s.id
         WHERE s.checkpoint_id = c.id) counts
       ORDER BY c.pipeline, c.run`,
    );
  } catch (error) {
    // No schema or no tables yet: nothing was ever saved here.
    const code = error instanceof CheckpointStoreError ? (error.cause as { code?: unknown } | undefined)?.code : undefined;
    if (code === '42P01' || code === '3F000') return [];
    throw error;
  } finally {
    await connection.end();
  }
  return rows.map((row) => {
    const saved = Date.parse(row.updated_at) || 0;
    const updatedAt = row.items_at !== null && row.items_at > saved ? new Date(Math.round(row.items_at)).toISOString() : row.updated_at;
    return {
      pipeline: decodeText(row.pipeline),
      runId: decodeText(row.run),
      createdAt: row.created_at,
      updatedAt,
      items: { pending: row.pending, inProgress: row.in_progress, completed: row.completed, failed: row.failed, deadLetter: row.dead_letter },
    };
  });
}
