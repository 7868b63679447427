import type { PoolClient } from 'pg';
import type { CheckpointDocument } from '../../core/model.js';
import { forEachDetailedItem } from '../../core/item-rules.js';
import type { Tables } from './tables.js';
import { encodeText } from './text-codec.js';
import { clearCheckpoint, ensureSteps, logErrors, upsertItems, writeStage, type ItemRowInput } from './write-changes.js';

export interface CheckpointIdentity {
  pipeline: string;
  run: string;
}

/**
 * Replaces everything saved for the checkpoint with `document`, inside the caller's transaction,
 * and returns the checkpoint's id (kept across a save, so that other workers' ids stay valid).
 */
export async function saveDocument(client: PoolClient, tables: Tables, identity: CheckpointIdentity, document: CheckpointDocument): Promise<string> {
  const { rows } = await client.query<{ id: string }>(
    `INSERT INTO ${tables.checkpoints} (pipeline, run, metadata, context) VALUES ($1, $2, $3::json, $4::json)
     ON CONFLICT (pipeline, run) DO UPDATE SET metadata = excluded.metadata, context = excluded.context
     RETURNING id`,
    [identity.pipeline, identity.run, JSON.stringify(document.metadata), JSON.stringify(document.context)],
  );
  const id = rows[0]!.id;
  await clearCheckpoint(client, tables, id);
  const stepNames = Object.keys(document.steps);
  await ensureSteps(client, tables, id, stepNames);
  for (const name of stepNames) {
    const step = document.steps[name]!;
    if (step.summary || step.total !== undefined) {
      await client.query(`UPDATE ${tables.steps} SET summary = $3::json, total = $4 WHERE checkpoint_id = $1 AND name = $2`, [
        id,
        encodeText(name),
        step.summary ? JSON.stringify(step.summary) : null,
        step.total ?? null,
      ]);
    }
    await upsertItems(client, tables, id, itemRows(name, step));
  }
  for (const stage of document.stages) {
    await writeStage(client, tables, id, stage.name, Date.parse(stage.completedAt) || 0, stage.result);
  }
  const counters = Object.entries(document.counters);
  if (counters.length > 0) {
    await client.query(
      `INSERT INTO ${tables.counters} (checkpoint_id, name, value)
       SELECT $1, u.name, u.value FROM unnest($2::text[], $3::float8[]) WITH ORDINALITY AS u(name, value, n) ORDER BY u.n`,
      [id, counters.map(([name]) => encodeText(name)), counters.map(([, value]) => value)],
    );
  }
  await logErrors(client, tables, id, document.errors);
  return id;
}

/** One row per item, read as `CheckpointState.fromDocument` reads them (see `forEachDetailedItem`). */
function itemRows(step: string, saved: CheckpointDocument['steps'][string]): ItemRowInput[] {
  const rows = new Map<string, ItemRowInput>();
  forEachDetailedItem(saved, (detail, status) => {
    const at = detail.updatedAt === undefined ? undefined : Date.parse(detail.updatedAt);
    rows.set(detail.key, {
      step,
      key: detail.key,
      status,
      attempts: detail.attempts,
      error: detail.error,
      result: detail.result,
      at: at === undefined || Number.isNaN(at) ? undefined : at,
    });
  });
  for (const key of saved.completedItems) {
    const row = rows.get(key);
    if (!row) rows.set(key, { step, key, status: 'completed', attempts: 1 });
    else row.status = 'completed';
  }
  return [...rows.values()];
}
