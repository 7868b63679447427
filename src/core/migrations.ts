import { CheckpointCorruptError } from './errors.js';
import { fingerprint, itemKey } from './item-key.js';
import { isJsonObject, type JsonObject, type JsonValue } from './json.js';
import type { ItemDetail, StepDocument, StepSummary } from './model.js';

/**
 * `migrations[v]` turns a format-`v` document into a format-`v + 1` one; the reader applies
 * them in turn up to the current version, so any old file can still be opened.
 */
export const migrations: Record<number, (document: JsonObject, file: string) => JsonValue> = {
  0: fromLegacy,
};

const text = (value: JsonValue | undefined): string | undefined =>
  typeof value === 'string' ? value : undefined;
const list = (value: JsonValue | undefined): JsonValue[] => (Array.isArray(value) ? value : []);

const LEGACY_ITEM_LISTS = ['completed_items', 'failed_items', 'in_progress_items'];

/**
 * A legacy file is recognised by a field of the right shape, not just by a key: `{"steps": 5}` or
 * a current checkpoint with a damaged `version` must not pass for an (empty) legacy checkpoint.
 */
function looksLegacy(doc: JsonObject): boolean {
  const steps = isJsonObject(doc.steps) ? Object.values(doc.steps) : [];
  const hasItemLists = steps.some((step) => isJsonObject(step) && LEGACY_ITEM_LISTS.some((key) => Array.isArray(step[key])));
  const hasFileLists = Object.entries(doc).some(([key, value]) => key.endsWith('_files') && Array.isArray(value));
  return hasItemLists || hasFileLists || Array.isArray(doc.completed_stages) || Array.isArray(doc.completed_steps);
}

/** Fields only the current format has: a run id in `metadata`, `completedItems`, a journal `sequence`. */
function looksCurrent(doc: JsonObject): boolean {
  const steps = isJsonObject(doc.steps) ? Object.values(doc.steps) : [];
  return (
    'sequence' in doc ||
    (isJsonObject(doc.metadata) && 'runId' in doc.metadata) ||
    steps.some((step) => isJsonObject(step) && 'completedItems' in step)
  );
}

/**
 * Format 0: the hand-written Python checkpoints this library replaces — per-step
 * `completed_items` / `failed_items` / `in_progress_items`, `completed_stages`,
 * `completed_steps` with `steps_summary`, `config_snapshot` and `context`. Importing them lets a
 * team switch to checkpointer without losing a run in progress.
 */
function fromLegacy(doc: JsonObject, file: string): JsonValue {
  if (looksCurrent(doc)) {
    // A damaged current checkpoint read as a legacy one would silently start over.
    throw new CheckpointCorruptError(file, [{ path: 'version', message: 'missing or damaged in a checkpoint of the current format' }]);
  }
  if (!looksLegacy(doc)) {
    throw new CheckpointCorruptError(file, [
      { path: 'version', message: 'missing: this is not a checkpoint file (no version, no steps)' },
    ]);
  }
  const meta = isJsonObject(doc.metadata) ? doc.metadata : {};
  const now = new Date().toISOString();
  const createdAt = text(meta.created_at) ?? text(doc.start_time) ?? text(doc.timestamp) ?? now;
  // A Map, then fromEntries: a legacy step named "__proto__" must stay a step.
  const steps = new Map<string, StepDocument>();
  const legacySteps = isJsonObject(doc.steps) ? doc.steps : {};
  for (const [name, step] of Object.entries(legacySteps)) {
    if (!isJsonObject(step)) continue;
    const details = (items: JsonValue[]): ItemDetail[] =>
      items.map((item) => ({ key: itemKey(item), attempts: 1 }));
    steps.set(name, {
      completedItems: list(step.completed_items).map(itemKey),
      failedItems: details(list(step.failed_items)),
      pendingItems: details(list(step.in_progress_items)),
    });
  }
  // The YAML state files keep one list of finished files per stage (`downloaded_files`,
  // `processed_files`, …): each becomes a step of that name whose completed items are the files.
  for (const [name, files] of Object.entries(doc)) {
    if (name.endsWith('_files') && Array.isArray(files) && !steps.has(name)) steps.set(name, { completedItems: files.map(itemKey) });
  }
  const summaries = isJsonObject(doc.steps_summary) ? doc.steps_summary : {};
  for (const name of list(doc.completed_steps)) {
    if (typeof name !== 'string') continue;
    const summary = isJsonObject(summaries[name]) ? summaries[name] : {};
    const migrated: StepSummary = { status: 'completed' };
    const startedAt = text(summary.start_time);
    const endedAt = text(summary.end_time);
    if (startedAt) migrated.startedAt = startedAt;
    if (endedAt) migrated.endedAt = endedAt;
    if (isJsonObject(summary.metadata)) migrated.metadata = summary.metadata;
    steps.set(name, { ...(steps.get(name) ?? { completedItems: [] }), summary: migrated });
  }
  const stages = list(doc.completed_stages)
    .filter((stage): stage is string => typeof stage === 'string')
    // The YAML state files save a stage's return value as `<stage>_result`.
    .map((stage) => {
      const result = Object.hasOwn(doc, `${stage}_result`) ? doc[`${stage}_result`] : undefined;
      return { name: stage, completedAt: createdAt, ...(result === undefined ? {} : { result }) };
    });
  const config = doc.config_snapshot;
  return {
    version: 1,
    metadata: {
      ...(text(meta.pipeline_type) ?? text(doc.pipeline_name)
        ? { pipeline: text(meta.pipeline_type) ?? text(doc.pipeline_name) }
        : {}),
      // Derived from the content, so that every read of the same old file gives the same run id.
      runId: text(doc.run_guid) ?? text(doc.session_id) ?? `legacy-${fingerprint(doc).slice(7, 39)}`,
      createdAt,
      updatedAt: text(meta.last_updated) ?? text(doc.checkpoint_time) ?? text(doc.timestamp) ?? createdAt,
      ...(config === undefined ? {} : { config }),
    },
    steps: Object.fromEntries(steps) as unknown as JsonObject,
    stages,
    context: isJsonObject(doc.context) ? doc.context : {},
    counters: {},
    errors: [],
  };
}
