import type { CheckpointEvents } from '../core/events.js';
import type { PipelineStepError } from '../core/errors.js';
import type { StepSummary } from '../core/model.js';
import type { SaveOperation } from './save-tolerant-store.js';

export interface StepStartEvent {
  step: string;
  /** Position in the pipeline, from 0. */
  index: number;
  total: number;
  /** How many times this step has been started, this run included. */
  attempt: number;
}

export interface StepEndEvent {
  step: string;
  status: 'completed' | 'failed';
  durationMs: number;
  summary: StepSummary;
  error?: PipelineStepError;
}

export interface StepSkipEvent {
  step: string;
  reason: string;
}

/** A checkpoint write failed and the run went on (`onSaveError: 'log'`). */
export interface SaveErrorEvent {
  operation: SaveOperation;
  error: unknown;
  /** The step that was running, if any. */
  step?: string;
}

/**
 * Events of a Pipeline, by name: its own, plus those of its CheckpointManager (`item`, `warning`,
 * …), which are passed on when a listener is registered before `run()`.
 */
export interface PipelineEvents extends CheckpointEvents {
  stepStart: StepStartEvent;
  stepEnd: StepEndEvent;
  stepSkip: StepSkipEvent;
  saveError: SaveErrorEvent;
}
