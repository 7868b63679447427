/**
 * `checkpoint-resume/postgres`: a checkpoint in PostgreSQL, shared by many workers on many machines.
 * Needs the `pg` package (an optional peer dependency), loaded on first use.
 */
export { PostgresStore } from './stores/postgres/postgres-store.js';
export type { PostgresWorkQueue, Completion } from './stores/postgres/work-queue.js';
export type { ClaimedItemContext, ForEachClaimedOptions, ForEachClaimedReport } from './stores/postgres/for-each-claimed-options.js';
export { LeaseLostError } from './stores/postgres/errors.js';
export type { RetryOptions } from './stores/postgres/connection.js';
export type {
  ClaimedItem,
  ClaimOptions,
  CompleteOptions,
  FailOptions,
  Lease,
  PostgresDurability,
  PostgresStoreOptions,
  StageOutcome,
  StepItemCounts,
} from './stores/postgres/options.js';
export type { CheckpointListing, ListCheckpointsOptions } from './stores/postgres/list-checkpoints.js';
