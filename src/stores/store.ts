import type { CheckpointChange, CheckpointDocument } from '../core/model.js';
import type { CheckpointEvents } from '../core/events.js';

/** What a store may report to the manager's listeners. */
export type StoreEvents = Pick<CheckpointEvents, 'recovered' | 'warning' | 'flush'>;

/** Handed to a store when it opens: its way back to the manager. */
export interface StoreSession {
  /** The current state as a document, for stores that compact their log into a snapshot. */
  snapshot(): CheckpointDocument;
  emit<E extends keyof StoreEvents>(event: E, payload: StoreEvents[E]): void;
}

/** What a store found when it opened: a document and the changes made since it was saved. */
export interface LoadedCheckpoint {
  document: CheckpointDocument;
  changes: Iterable<CheckpointChange>;
}

/**
 * Where a checkpoint lives. The manager keeps the state in memory and hands every change to the
 * store; the store decides how to make it durable (a journal, rows in a table, …). Implement
 * `location` and the six methods, then run the conformance suite from `checkpoint-resume/testing`.
 */
export interface CheckpointStore {
  /** Names the checkpoint in messages: a file path, a table, a URL without its password. */
  readonly location: string;

  /**
   * Reads the saved checkpoint, or resolves `undefined` if there is none. Takes whatever lock
   * the store uses. Validate what you read with `parseDocument` / `parseChange`.
   */
  open(session: StoreSession): Promise<LoadedCheckpoint | undefined>;

  /**
   * Persists one change. Resolves once the change is as durable as the store promises; changes
   * must be kept in the order they were appended.
   */
  append(change: CheckpointChange): Promise<void>;

  /** Replaces everything saved with `document` (a new checkpoint, or a restart). */
  save(document: CheckpointDocument): Promise<void>;

  /** Makes every appended change durable now. */
  flush(): Promise<void>;

  /** Flushes, compacts if useful, and releases locks. The store may be opened again later. */
  close(): Promise<void>;

  /** Deletes the checkpoint and everything kept beside it; used when a run completes. */
  remove(): Promise<void>;
}
