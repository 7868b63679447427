import { CompletedKeys } from './completed-keys.js';
import { forEachDetailedItem, statusAfterFailure } from './item-rules.js';
import type { JsonObject, JsonValue } from './json.js';
import { recordCompletion, type CompletionSample } from './recent-rate.js';
import {
  FORMAT_VERSION,
  type CheckpointChange,
  type CheckpointDocument,
  type CheckpointMetadata,
  type ErrorInfo,
  type ErrorLogEntry,
  type ItemChange,
  type ItemDetail,
  type ItemStatus,
  type StepDocument,
  type StepSummary,
} from './model.js';

/** Details of an item that is not simply "completed". */
export interface ItemRecord {
  status: ItemStatus;
  attempts: number;
  error?: ErrorInfo;
  /** Epoch milliseconds. */
  updatedAt?: number;
  result?: JsonValue;
}

/** Item counts of one step. */
export interface StepCounts {
  /** How many items the step has in all, or null when it was never told (see `setTotal`). */
  total: number | null;
  completed: number;
  failed: number;
  inProgress: number;
  /**
   * Items still to do, failed ones aside: with a known total, every item not completed, failed,
   * in progress or a dead letter; without one, the pending items the checkpoint knows of
   * (interrupted ones and those `retry-failed` handed back).
   */
  pending: number;
  /** Items started in an earlier run and interrupted; they will be retried. */
  interrupted: number;
  /** Failed items that `retry-failed` handed back, not done yet (listed with their last error). */
  handedBack: number;
  deadLetter: number;
}

/**
 * One step's items. Completed keys live in a set (O(1) lookups, a few dozen bytes per item);
 * the rarer items with attempts, errors or results also have a record in `items`.
 */
export class StepState {
  readonly completed = new CompletedKeys();
  readonly items = new Map<string, ItemRecord>();
  summary: StepSummary | undefined;
  total: number | undefined;
  /** Samples of the completed count, for the recent rate (see recent-rate.ts). */
  recentCompletions: CompletionSample[] = [];

  status(key: string): ItemStatus {
    if (this.completed.has(key)) return 'completed';
    return this.items.get(key)?.status ?? 'pending';
  }

  counts(): StepCounts {
    const counts: StepCounts = { total: this.total ?? null, completed: this.completed.size, failed: 0, inProgress: 0, pending: 0, interrupted: 0, handedBack: 0, deadLetter: 0 };
    for (const record of this.items.values()) {
      if (record.status === 'failed') counts.failed++;
      else if (record.status === 'in_progress') counts.inProgress++;
      else if (record.status === 'dead_letter') counts.deadLetter++;
      else if (record.status === 'pending') {
        counts.pending++;
        if (record.attempts > 0) counts.interrupted++;
        else counts.handedBack++;
      }
    }
    if (this.total !== undefined) {
      const started = counts.completed + counts.failed + counts.inProgress + counts.deadLetter;
      counts.pending = Math.max(counts.pending, this.total - started);
    }
    return counts;
  }
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * The whole checkpoint in memory, and the rules for changing it. Pure: no I/O, no clock (times
 * come in with the changes), so that replaying a journal reproduces the state exactly.
 */
export class CheckpointState {
  metadata: CheckpointMetadata;
  readonly steps = new Map<string, StepState>();
  readonly stages = new Map<string, { completedAt: string; result?: JsonValue }>();
  context: JsonObject = {};
  readonly counters = new Map<string, number>();
  errors: ErrorLogEntry[] = [];
  readonly maxErrors: number;
  #updatedAt: number;

  constructor(metadata: CheckpointMetadata, maxErrors = 100) {
    this.metadata = metadata;
    this.maxErrors = maxErrors;
    this.#updatedAt = Date.parse(metadata.updatedAt) || 0;
  }

  static fromDocument(document: CheckpointDocument, maxErrors?: number): CheckpointState {
    const state = new CheckpointState(document.metadata, maxErrors);
    for (const [name, saved] of Object.entries(document.steps)) {
      const step = state.step(name);
      step.completed.load(saved.completedItems);
      forEachDetailedItem(saved, ({ key, updatedAt, ...detail }, status) => {
        step.items.set(key, { ...detail, status, ...(updatedAt ? { updatedAt: Date.parse(updatedAt) } : {}) });
        if (status === 'completed') step.completed.add(key);
      });
      step.summary = saved.summary;
      step.total = saved.total;
      step.recentCompletions = saved.recentCompletions?.map(([at, count]) => [at, count]) ?? [];
    }
    for (const stage of document.stages) {
      state.stages.set(stage.name, { completedAt: stage.completedAt, ...(stage.result === undefined ? {} : { result: stage.result }) });
    }
    state.context = document.context;
    for (const [name, value] of Object.entries(document.counters)) state.counters.set(name, value);
    state.errors = document.errors.slice(-state.maxErrors);
    return state;
  }

  get updatedAt(): number {
    return this.#updatedAt;
  }

  step(name: string): StepState {
    let step = this.steps.get(name);
    if (!step) {
      step = new StepState();
      this.steps.set(name, step);
    }
    return step;
  }

  apply(change: CheckpointChange): void {
    switch (change.op) {
      case 'item':
        this.#applyItem(change);
        return;
      case 'step':
        this.step(change.step).summary = change.summary;
        break;
      case 'total':
        this.step(change.step).total = change.total ?? undefined;
        break;
      case 'stage':
        this.stages.delete(change.stage);
        this.stages.set(change.stage, {
          completedAt: iso(change.at),
          ...(change.result === undefined ? {} : { result: change.result }),
        });
        this.#touch(change.at);
        return;
      case 'context':
        this.context = change.context;
        break;
      case 'counter':
        this.counters.set(change.name, change.value);
        break;
      case 'resetStep':
        this.steps.delete(change.step);
        this.#touch(change.at);
        break;
      case 'retryFailed':
        // Handed back, not forgotten: the items stay listed as pending (with their last error)
        // until they are done, so that status and inspect still count them.
        for (const [name, step] of this.steps) {
          if (change.step !== undefined && change.step !== name) continue;
          for (const record of step.items.values()) {
            if (record.status !== 'failed' && record.status !== 'dead_letter') continue;
            record.status = 'pending';
            record.attempts = 0;
            if (change.at !== undefined) record.updatedAt = change.at;
          }
        }
        this.#touch(change.at);
        break;
      case 'resetAll':
        this.steps.clear();
        this.stages.clear();
        this.context = {};
        this.counters.clear();
        this.errors = [];
        this.#touch(change.at);
        break;
      case 'metadata':
        this.metadata = change.metadata;
        break;
    }
  }

  #applyItem(change: ItemChange): void {
    const step = this.step(change.step);
    const { key, status, attempts, at } = change;
    if (status === 'completed') {
      step.completed.add(key);
      recordCompletion(step.recentCompletions, at, step.completed.size);
      if (attempts > 1 || change.result !== undefined) {
        step.items.set(key, { status, attempts, updatedAt: at, ...(change.result === undefined ? {} : { result: change.result }) });
      } else if (step.items.size > 0) {
        step.items.delete(key);
      }
    } else {
      step.completed.delete(key);
      if (status === 'pending' && attempts === 0) step.items.delete(key);
      else step.items.set(key, { status, attempts, updatedAt: at, ...(change.error ? { error: change.error } : {}) });
      if (change.error && (status === 'failed' || status === 'dead_letter')) {
        this.#logError({ at: iso(at), message: change.error.message, ...(change.error.name ? { name: change.error.name } : {}), step: change.step, key });
      }
    }
    this.#touch(at);
  }

  #logError(entry: ErrorLogEntry): void {
    this.errors.push(entry);
    if (this.errors.length > this.maxErrors) this.errors.splice(0, this.errors.length - this.maxErrors);
  }

  #touch(at: number | undefined): void {
    if (at !== undefined && at > this.#updatedAt) this.#updatedAt = at;
  }

  /**
   * Items left `in_progress` by a run that ended without finishing them were interrupted: they
   * become pending again, keeping their attempt count — or dead letters once that count reaches
   * `maxAttempts` (an item that crashes the process every time must not block the run forever).
   */
  releaseInterrupted(maxAttempts: number): number {
    let released = 0;
    for (const step of this.steps.values()) {
      for (const record of step.items.values()) {
        if (record.status !== 'in_progress') continue;
        record.status = statusAfterFailure(record.attempts, maxAttempts) === 'dead_letter' ? 'dead_letter' : 'pending';
        released++;
      }
    }
    return released;
  }

  toDocument(): CheckpointDocument {
    const steps: [string, StepDocument][] = [];
    for (const [name, step] of this.steps) steps.push([name, stepDocument(step)]);
    return {
      version: FORMAT_VERSION,
      metadata: { ...this.metadata, updatedAt: iso(Math.max(this.#updatedAt, Date.parse(this.metadata.createdAt) || 0)) },
      // fromEntries defines own properties, so a step named "__proto__" stays a plain key.
      steps: Object.fromEntries(steps),
      stages: [...this.stages].map(([name, stage]) => ({ name, ...stage })),
      context: this.context,
      counters: Object.fromEntries(this.counters),
      errors: this.errors,
    };
  }
}

function stepDocument(step: StepState): StepDocument {
  const lists: Record<ItemStatus, ItemDetail[]> = { completed: [], failed: [], in_progress: [], pending: [], dead_letter: [] };
  for (const [key, record] of step.items) {
    const { status, updatedAt, ...detail } = record;
    lists[status].push({ key, ...detail, ...(updatedAt === undefined ? {} : { updatedAt: iso(updatedAt) }) });
  }
  const document: StepDocument = {
    ...(step.total === undefined ? {} : { total: step.total }),
    completedItems: step.completed.toArray(),
    failedItems: lists.failed,
    inProgressItems: lists.in_progress,
  };
  if (lists.pending.length) document.pendingItems = lists.pending;
  if (lists.dead_letter.length) document.deadLetterItems = lists.dead_letter;
  if (lists.completed.length) document.completedDetails = lists.completed;
  if (step.summary) document.summary = step.summary;
  if (step.recentCompletions.length) document.recentCompletions = step.recentCompletions.map(([at, count]) => [at, count]);
  return document;
}
