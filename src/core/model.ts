import type { JsonObject, JsonValue } from './json.js';

/** The current checkpoint format version. Older versions are migrated on read. */
export const FORMAT_VERSION = 1;

/** Where an item stands. `dead_letter` items failed `maxAttempts` times and are not retried. */
export type ItemStatus = 'pending' | 'in_progress' | 'completed' | 'failed' | 'dead_letter';

/** What is kept of an error: enough to understand it, small enough to store for every item. */
export interface ErrorInfo {
  message: string;
  name?: string;
  /** The first lines of the stack trace. */
  stack?: string;
}

/** An item with something to say beyond "completed": attempts, an error or a result. */
export interface ItemDetail {
  key: string;
  attempts: number;
  error?: ErrorInfo;
  /** ISO time of the last change. */
  updatedAt?: string;
  result?: JsonValue;
}

export type StepStatus = 'pending' | 'running' | 'completed' | 'failed';

/** What a Pipeline records about one of its steps. */
export interface StepSummary {
  status: StepStatus;
  startedAt?: string;
  endedAt?: string;
  durationMs?: number;
  attempts?: number;
  description?: string;
  group?: string;
  version?: string | number;
  metadata?: JsonObject;
  /** The step's return value, restored into the context when the step is skipped on resume. */
  result?: JsonValue;
}

/**
 * One step as saved. Completed items are bare keys (the bulk of a checkpoint, kept compact);
 * items with attempts, errors or results are listed with their details.
 */
export interface StepDocument {
  /** How many items the step has in all, when known (`forEach` over an array, `setTotal`). */
  total?: number;
  completedItems: string[];
  failedItems?: ItemDetail[];
  inProgressItems?: ItemDetail[];
  /** Items that were started but interrupted, kept for their attempt count. */
  pendingItems?: ItemDetail[];
  deadLetterItems?: ItemDetail[];
  /** Results and attempt counts of completed items that have them. */
  completedDetails?: ItemDetail[];
  summary?: StepSummary;
  /**
   * `[epoch ms, completed count]` pairs a few seconds apart over the last minute of completions:
   * what the recent rate and the ETA are computed from.
   */
  recentCompletions?: [number, number][];
}

export interface StageDocument {
  name: string;
  completedAt: string;
  result?: JsonValue;
}

export interface ErrorLogEntry {
  at: string;
  message: string;
  name?: string;
  step?: string;
  key?: string;
}

export interface CheckpointMetadata {
  /** The pipeline this checkpoint belongs to; checked on open. */
  pipeline?: string;
  /** A UUID for this run; stays the same across resumes. */
  runId: string;
  createdAt: string;
  updatedAt: string;
  /** SHA-256 of the canonical JSON of `config`. */
  configFingerprint?: string;
  config?: JsonValue;
}

/** The whole checkpoint, as written to a snapshot file. */
export interface CheckpointDocument {
  version: typeof FORMAT_VERSION;
  metadata: CheckpointMetadata;
  steps: Record<string, StepDocument>;
  stages: StageDocument[];
  context: JsonObject;
  counters: Record<string, number>;
  errors: ErrorLogEntry[];
}

/**
 * One change to a checkpoint. Stores persist changes in order (a journal, rows, …); replaying
 * them over the last saved document gives the current state. Each change sets a value rather
 * than adjusting one, so the meaning of a change never depends on what came before it.
 */
export type CheckpointChange =
  | {
      op: 'item';
      step: string;
      key: string;
      status: ItemStatus;
      attempts: number;
      /** Epoch milliseconds. */
      at: number;
      error?: ErrorInfo;
      result?: JsonValue;
    }
  | { op: 'step'; step: string; summary: StepSummary }
  | { op: 'stage'; stage: string; at: number; result?: JsonValue }
  | { op: 'context'; context: JsonObject }
  | { op: 'counter'; name: string; value: number }
  | { op: 'total'; step: string; total: number | null }
  | { op: 'resetStep'; step: string; at?: number }
  | { op: 'retryFailed'; step?: string; at?: number }
  | { op: 'resetAll'; at?: number }
  | { op: 'metadata'; metadata: CheckpointMetadata };

export type ItemChange = Extract<CheckpointChange, { op: 'item' }>;
