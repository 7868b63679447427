/**
 * The public API: only what a user of the package can call, construct or name. Internal modules
 * (the FileStore engine, the snapshot formats, the runner's entry point, constants) are reached by
 * their own paths inside the package, never from here. Types are exported as types.
 */
export { CheckpointManager } from './manager/checkpoint-manager.js';
export type { FailedItem, ProgressSummary, StepProgress } from './manager/progress-summary.js';
export type { CompleteCheckpointOptions, CompleteResult, ItemsLeft } from './manager/completion.js';
export type { CheckpointOptions, ConfigChangePolicy, Logger } from './manager/options.js';
export type { VerifyCompleted, VerifyCompletedOption } from './manager/verify-completed.js';
export type { StepHandle } from './manager/step-handle.js';
export { JsonFileStore, YamlFileStore } from './stores/file/file-store.js';
export type { CorruptPolicy, Durability, FileStoreOptions } from './stores/file/file-store-options.js';
export { MemoryStore } from './stores/memory-store.js';
export type { CheckpointStore, LoadedCheckpoint, StoreEvents, StoreSession } from './stores/store.js';
export { itemKey } from './core/item-key.js';
export type { JsonObject, JsonPrimitive, JsonValue } from './core/json.js';
export { parseChange, parseDocument } from './core/schema.js';
export type {
  CheckpointChange,
  CheckpointDocument,
  CheckpointMetadata,
  ErrorInfo,
  ErrorLogEntry,
  ItemDetail,
  ItemStatus,
  StageDocument,
  StepDocument,
  StepStatus,
  StepSummary,
} from './core/model.js';
export {
  CheckpointAbortError,
  CheckpointArgumentError,
  CheckpointClosedError,
  CheckpointCorruptError,
  CheckpointError,
  CheckpointLockedError,
  CheckpointLockLostError,
  CheckpointMismatchError,
  CheckpointStoreError,
  CheckpointVerifyError,
  CheckpointVersionError,
  PipelineStepError,
} from './core/errors.js';
export type { CheckpointErrorCode, CorruptionProblem, MismatchKind } from './core/errors.js';
export type {
  CheckpointEvents,
  FlushEvent,
  ItemEvent,
  RecoveredEvent,
  StageEvent,
  WarningEvent,
} from './core/events.js';
export { Pipeline } from './pipeline/pipeline.js';
export type { PipelineStep } from './pipeline/pipeline-step.js';
export type { StepDefinition, StepReturn } from './pipeline/step-definition.js';
export type { PipelineOptions, RunOptions, SaveErrorPolicy } from './pipeline/run-options.js';
export type { PlannedStep, RunResult } from './pipeline/run-result.js';
export type { PipelineEvents, SaveErrorEvent, StepEndEvent, StepSkipEvent, StepStartEvent } from './pipeline/pipeline-events.js';
export type { SaveOperation } from './pipeline/save-tolerant-store.js';
export { parseCheckpointFlags } from './flags/parse-checkpoint-flags.js';
export type { CheckpointFlags } from './flags/parse-checkpoint-flags.js';
export { confirmResume } from './flags/confirm-resume.js';
export type { PromptStreams, ResumeAnswer, ResumePrompt } from './flags/confirm-resume.js';
export type { ItemFunction } from './runner/for-each.js';
export type { BackoffOptions, ForEachFailure, ForEachOptions, ForEachProgress, ForEachReport, ItemContext } from './runner/options.js';
export { createProgressRenderer } from './progress/progress-renderer.js';
export type { ProgressRenderer, ProgressRendererOptions, ProgressStream } from './progress/progress-renderer.js';
export type { ProgressSnapshot } from './progress/format-progress.js';
export type { Listener } from './core/events.js';
