import type { JsonValue } from './json.js';
import type { CorruptionProblem } from './errors.js';
import type { ErrorInfo, ItemStatus } from './model.js';

export interface ItemEvent {
  step: string;
  key: string;
  status: ItemStatus;
  attempts: number;
  error?: ErrorInfo;
}

export interface StageEvent {
  stage: string;
  result?: JsonValue;
}

export interface FlushEvent {
  location: string;
  /** What made the store write: `compaction`, `close`, `interval`, … */
  reason: string;
}

/** A damaged checkpoint was replaced by its newest good backup. */
export interface RecoveredEvent {
  location: string;
  /** The backup the state was loaded from. */
  from: string;
  /** Where the damaged file was moved, so that nothing is deleted before a person looks. */
  movedTo?: string;
  problems: readonly CorruptionProblem[];
  /**
   * How many completed items the damaged file held that the backup and the journal replayed over
   * it lack: the work this recovery could not bring back, which will be done again. Absent when
   * the damaged file is missing or cannot be parsed, so that how many is not known.
   */
  lostItems?: number;
  /** `lostItems` by step, for the steps that lost any. */
  lostItemsByStep?: Readonly<Record<string, number>>;
}

export interface WarningEvent {
  message: string;
  cause?: unknown;
  /**
   * Set when `verifyCompleted` turned completed items of a step pending again on open: the step,
   * how many of its completed items were checked, and the keys that failed.
   */
  unverified?: { step: string; checked: number; keys: readonly string[] };
}

/** Events of a CheckpointManager, by name. */
export interface CheckpointEvents {
  item: ItemEvent;
  stage: StageEvent;
  flush: FlushEvent;
  recovered: RecoveredEvent;
  warning: WarningEvent;
}

export type Listener<T> = (payload: T) => void;

/**
 * A minimal typed emitter. A listener that throws is reported to `onListenerError` instead of
 * breaking the mark that emitted the event.
 */
export class Emitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<Listener<never>>>();
  readonly #onListenerError: (error: unknown) => void;

  constructor(onListenerError: (error: unknown) => void) {
    this.#onListenerError = onListenerError;
  }

  on<E extends keyof Events>(event: E, listener: Listener<Events[E]>): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => this.off(event, listener);
  }

  off<E extends keyof Events>(event: E, listener: Listener<Events[E]>): void {
    this.#listeners.get(event)?.delete(listener as Listener<never>);
  }

  has(event: keyof Events): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0;
  }

  emit<E extends keyof Events>(event: E, payload: Events[E]): void {
    const set = this.#listeners.get(event);
    if (!set) return;
    for (const listener of set) {
      try {
        (listener as Listener<Events[E]>)(payload);
      } catch (error) {
        this.#onListenerError(error);
      }
    }
  }
}
