import type { PoolClient } from 'pg';
import type { JsonObject, JsonValue } from '../../core/json.js';
import { FORMAT_VERSION, type CheckpointDocument, type CheckpointMetadata, type ErrorInfo, type ErrorLogEntry, type ItemDetail, type StepDocument, type StepSummary } from '../../core/model.js';
import { parseDocument } from '../../core/schema.js';
import type { PostgresConnection } from './connection.js';
import type { Tables } from './tables.js';
import { decodeText } from './text-codec.js';

/** Rows are read through a cursor in pages, so that a million items never sit in one result. */
const PAGE = 20_000;

interface ItemRow {
  step_id: string;
  key: string;
  status: string;
  attempts: number;
  error: ErrorInfo | null;
  result: JsonValue | null;
  at: number | null;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/**
 * Reads a whole checkpoint into a document, in one read-only snapshot so that writes by other
 * workers never show half. Registered items nobody started (pending, no attempts, no error) are
 * left out: for the in-memory state they are simply not there yet.
 */
export async function loadDocument(connection: PostgresConnection, tables: Tables, checkpointId: string): Promise<CheckpointDocument> {
  const document = await connection.withClient('loading the checkpoint', async (client) => {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const head = await client.query<{ metadata: CheckpointMetadata; context: JsonObject }>(
      `SELECT metadata, context FROM ${tables.checkpoints} WHERE id = $1`,
      [checkpointId],
    );
    const row = head.rows[0];
    if (!row) throw new Error(`checkpoint ${checkpointId} disappeared while loading`);
    let updatedAt = Date.parse(row.metadata.updatedAt) || 0;
    const steps = new Map<string, [string, StepDocument]>();
    const stepRows = await client.query<{ id: string; name: string; summary: StepSummary | null; total: string | null }>(
      `SELECT id, name, summary, total FROM ${tables.steps} WHERE checkpoint_id = $1 ORDER BY id`,
      [checkpointId],
    );
    for (const step of stepRows.rows) {
      const saved: StepDocument = { completedItems: [], failedItems: [], inProgressItems: [] };
      if (step.summary) saved.summary = step.summary;
      if (step.total !== null) saved.total = Number(step.total);
      steps.set(step.id, [decodeText(step.name), saved]);
    }
    const seen = (at: number | null): void => {
      if (at !== null && at > updatedAt) updatedAt = Math.round(at);
    };
    await readItems(client, tables, checkpointId, {
      completed: (stepId, keys, at) => {
        const step = steps.get(stepId)?.[1];
        if (!step) return;
        seen(at);
        for (const key of keys) step.completedItems.push(decodeText(key));
      },
      detailed: (item) => {
        const step = steps.get(item.step_id)?.[1];
        if (!step) return;
        seen(item.at);
        addItem(step, item);
      },
    });
    const stages = await client.query<{ name: string; at: number; result: JsonValue | null }>(
      `SELECT name, (extract(epoch FROM completed_at) * 1000)::float8 AS at, result FROM ${tables.stages} WHERE checkpoint_id = $1 ORDER BY position`,
      [checkpointId],
    );
    const counters = await client.query<{ name: string; value: number }>(
      `SELECT name, value FROM ${tables.counters} WHERE checkpoint_id = $1 ORDER BY position`,
      [checkpointId],
    );
    const errors = await client.query<{ entry: ErrorLogEntry }>(
      `SELECT entry FROM ${tables.errors} WHERE checkpoint_id = $1 ORDER BY id`,
      [checkpointId],
    );
    await client.query('COMMIT');
    for (const stage of stages.rows) updatedAt = Math.max(updatedAt, Math.round(stage.at));
    return {
      version: FORMAT_VERSION,
      metadata: { ...row.metadata, updatedAt: iso(Math.max(updatedAt, Date.parse(row.metadata.createdAt) || 0)) },
      // fromEntries defines own properties: a step named "__proto__" stays a plain key.
      steps: Object.fromEntries(steps.values()),
      stages: stages.rows.map((stage) => ({
        name: decodeText(stage.name),
        completedAt: iso(Math.round(stage.at)),
        ...(stage.result === null ? {} : { result: stage.result }),
      })),
      context: row.context,
      counters: Object.fromEntries(counters.rows.map((counter) => [decodeText(counter.name), counter.value])),
      errors: errors.rows.map((error) => error.entry),
    } satisfies CheckpointDocument;
  });
  return parseDocument(document, connection.location);
}

interface ItemSink {
  /** Completed items without details, a page of keys at a time. */
  completed(stepId: string, keys: string[], at: number | null): void;
  detailed(item: ItemRow): void;
}

async function readItems(client: PoolClient, tables: Tables, checkpointId: string, sink: ItemSink): Promise<void> {
  // Completed items with nothing more to say are the bulk of a checkpoint: they come as JSON
  // arrays of keys, a page each, which is several times faster than one row object per item.
  const plain = `i.status = 'completed' AND i.attempts <= 1 AND i.result IS NULL`;
  const pages = await client.query<{ step_id: string; keys: string[]; at: number | null }>(
    `SELECT i.step_id, json_agg(i.key ORDER BY i.seq) AS keys, (extract(epoch FROM max(i.updated_at)) * 1000)::float8 AS at
     FROM ${tables.items} i JOIN ${tables.steps} s ON s.id = i.step_id
     WHERE s.checkpoint_id = $1 AND ${plain}
     GROUP BY i.step_id, i.seq / ${PAGE} ORDER BY i.step_id, i.seq / ${PAGE}`,
    [checkpointId],
  );
  for (const page of pages.rows) sink.completed(page.step_id, page.keys, page.at);
  await client.query(
    `DECLARE checkpoint_items NO SCROLL CURSOR FOR
       SELECT i.step_id, i.key, i.status, i.attempts, i.error, i.result, (extract(epoch FROM i.updated_at) * 1000)::float8 AS at
       FROM ${tables.items} i JOIN ${tables.steps} s ON s.id = i.step_id
       WHERE s.checkpoint_id = $1 AND NOT (${plain}) AND (i.status <> 'pending' OR i.attempts > 0 OR i.error IS NOT NULL)
       ORDER BY i.seq`,
    [checkpointId],
  );
  for (;;) {
    const page = await client.query<ItemRow>(`FETCH ${PAGE} FROM checkpoint_items`);
    for (const row of page.rows) sink.detailed(row);
    if (page.rows.length < PAGE) break;
  }
  await client.query('CLOSE checkpoint_items');
}

function addItem(step: StepDocument, row: ItemRow): void {
  const key = decodeText(row.key);
  const detail: ItemDetail = { key, attempts: row.attempts };
  if (row.error) detail.error = row.error;
  if (row.at !== null) detail.updatedAt = iso(Math.round(row.at));
  switch (row.status) {
    case 'completed':
      step.completedItems.push(key);
      if (row.attempts > 1 || row.result !== null) {
        delete detail.error;
        if (row.result !== null) detail.result = row.result;
        (step.completedDetails ??= []).push(detail);
      }
      return;
    case 'failed':
      step.failedItems!.push(detail);
      return;
    case 'in_progress':
      step.inProgressItems!.push(detail);
      return;
    case 'dead_letter':
      (step.deadLetterItems ??= []).push(detail);
      return;
    default:
      (step.pendingItems ??= []).push(detail);
  }
}
