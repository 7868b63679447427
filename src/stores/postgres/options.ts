import type { Pool, PoolClient } from 'pg';
import type { JsonValue } from '../../core/json.js';
import type { RetryOptions } from './connection.js';
import type { Durability } from '../write-batcher.js';

/**
 * What an acknowledged mark survives (see {@link Durability}, the same words for every store):
 * for PostgreSQL, the machine that holds the data is the database server.
 */
export type PostgresDurability = Durability;

/**
 * Checked when the store is made: a wrong type, a number out of range or an unknown key (with
 * the nearest known one suggested) is a CheckpointArgumentError. The connection string is never
 * shown in a message. An option whose value is `undefined` counts as not given.
 */
export interface PostgresStoreOptions {
  /**
   * Where the database is, e.g. `postgres://user:password@db.internal:5432/jobs`. Give either
   * this or `pool`.
   */
  connectionString?: string;
  /**
   * A `pg` Pool to use instead of creating one. It stays yours: `close()` does not end it.
   * Give your pool an `'error'` listener, as pg requires.
   */
  pool?: Pool;
  /**
   * The PostgreSQL schema that holds the tables; it is created on first use.
   * @default 'checkpointer'
   */
  schema?: string;
  /**
   * The checkpoint's name: every worker of one run passes the same pipeline (and `runId`).
   * @example 'fri_level'
   */
  pipeline: string;
  /**
   * Tells apart checkpoints of one pipeline that run side by side (a date, a batch id…).
   * @default ''
   */
  runId?: string;
  /**
   * What an acknowledged mark survives; see {@link PostgresDurability}.
   * @default 'full'
   */
  durability?: PostgresDurability;
  /**
   * With `batched` durability, how many marks are sent together.
   * @default 100
   */
  batchSize?: number;
  /**
   * With `batched` durability, the longest a mark waits to be sent, in milliseconds (an integer
   * from 1 to 2147483647).
   * @default 1000
   */
  batchIntervalMs?: number;
  /** How transient errors (a dropped connection, a failover) are retried. */
  retry?: RetryOptions;
}

/** An item handed to this worker by `claim`. */
export interface ClaimedItem {
  key: string;
  /** Claims of this item so far, this one included. */
  attempts: number;
}

/** Items claimed together, held until their lease runs out unless it is extended. */
export interface Lease {
  step: string;
  /** Fences the items: only the holder of this token can complete, fail or release them. */
  token: string;
  items: ClaimedItem[];
  leaseMs: number;
}

export interface ClaimOptions {
  /**
   * How many items to claim at most.
   * @default 10
   */
  batchSize?: number;
  /**
   * How long the items are this worker's; extend the lease with `extendLease` while working.
   * @default 30000
   */
  leaseMs?: number;
  /**
   * Also hand out failed items (not dead letters) again.
   * @default false
   */
  retryFailed?: boolean;
}

export interface CompleteOptions {
  /** Kept with the item, like `markItemCompleted`'s result. */
  result?: JsonValue;
  /**
   * Runs inside the transaction that completes the item: what it writes commits if and only if
   * the completion does, so that effects in the same database happen exactly once.
   */
  inTransaction?: (client: PoolClient) => Promise<void>;
}

export interface FailOptions {
  /**
   * Items that failed this many times (counting every claim) become dead letters.
   * @default Infinity
   */
  maxAttempts?: number;
}

/** What `runStageOnce` found or did. */
export interface StageOutcome<T extends JsonValue | void> {
  /** Whether this worker ran the stage. */
  ran: boolean;
  /** Whether the stage is completed (false only with `wait: false` while another worker runs it). */
  completed: boolean;
  /** The stage's result, whoever ran it. */
  result: T | undefined;
}

/** Items of a step by state, across all workers. */
export interface StepItemCounts {
  pending: number;
  inProgress: number;
  completed: number;
  failed: number;
  deadLetter: number;
}
