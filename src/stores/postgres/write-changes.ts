import type { PoolClient } from 'pg';
import type { CheckpointChange, ErrorInfo, ErrorLogEntry, ItemChange, ItemStatus } from '../../core/model.js';
import type { JsonValue } from '../../core/json.js';
import type { Tables } from './tables.js';
import { encodeText, jsonParameter } from './text-codec.js';

/** One item as written to the items table. */
export interface ItemRowInput {
  step: string;
  key: string;
  status: ItemStatus;
  attempts: number;
  error?: ErrorInfo | undefined;
  result?: JsonValue | undefined;
  /** Epoch milliseconds. */
  at?: number | undefined;
}

const CHUNK = 10_000;

/**
 * Applies changes, in order, inside the caller's transaction. Runs of item changes become a few
 * statements over arrays (one round trip per statement, however many items), which is what makes
 * group commit and `batched` durability cheap.
 */
export async function writeChanges(client: PoolClient, tables: Tables, checkpointId: string, changes: readonly CheckpointChange[]): Promise<void> {
  let items: ItemChange[] = [];
  const flushItems = async (): Promise<void> => {
    if (items.length === 0) return;
    await writeItemChanges(client, tables, checkpointId, items);
    items = [];
  };
  for (const change of changes) {
    if (change.op === 'item') {
      items.push(change);
      continue;
    }
    await flushItems();
    await writeOther(client, tables, checkpointId, change);
  }
  await flushItems();
}

async function writeItemChanges(client: PoolClient, tables: Tables, checkpointId: string, changes: readonly ItemChange[]): Promise<void> {
  // Each change sets the whole item, so only the last change of an item matters (and one
  // INSERT … ON CONFLICT DO UPDATE may not touch a row twice).
  const last = new Map<string, ItemChange>();
  for (const change of changes) {
    const id = JSON.stringify([change.step, change.key]);
    last.delete(id);
    last.set(id, change);
  }
  await ensureSteps(client, tables, checkpointId, changes.map((change) => change.step));
  await upsertItems(client, tables, checkpointId, [...last.values()]);
  const logged: ErrorLogEntry[] = [];
  for (const { error, status, at, step, key } of changes) {
    if (!error || (status !== 'failed' && status !== 'dead_letter')) continue;
    logged.push({ at: new Date(at).toISOString(), message: error.message, ...(error.name ? { name: error.name } : {}), step, key });
  }
  await logErrors(client, tables, checkpointId, logged);
}

/** Creates the steps that do not exist yet, in the order given (which is the order `steps` lists them). */
export async function ensureSteps(client: PoolClient, tables: Tables, checkpointId: string, names: readonly string[]): Promise<void> {
  const unique = [...new Set(names)].map(encodeText);
  if (unique.length === 0) return;
  await client.query(
    `INSERT INTO ${tables.steps} (checkpoint_id, name)
     SELECT $1, u.name FROM unnest($2::text[]) WITH ORDINALITY AS u(name, n) ORDER BY u.n
     ON CONFLICT (checkpoint_id, name) DO NOTHING`,
    [checkpointId, unique],
  );
}

/** Inserts or replaces items (their steps must exist), in chunks. Keys must be unique per step. */
export async function upsertItems(client: PoolClient, tables: Tables, checkpointId: string, rows: readonly ItemRowInput[]): Promise<void> {
  for (let start = 0; start < rows.length; start += CHUNK) {
    const chunk = rows.slice(start, start + CHUNK);
    await client.query(
      `INSERT INTO ${tables.items} AS i (step_id, key, status, attempts, error, result, updated_at)
       SELECT s.id, u.key, u.status, u.attempts, u.error::json, u.result::json, to_timestamp(u.at / 1000.0)
       FROM unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[], $8::float8[])
            AS u(step, key, status, attempts, error, result, at)
       JOIN ${tables.steps} s ON s.checkpoint_id = $1 AND s.name = u.step
       ON CONFLICT (step_id, key_hash) DO UPDATE SET
         status = excluded.status, attempts = excluded.attempts, error = excluded.error, result = excluded.result,
         updated_at = excluded.updated_at, lease_token = NULL, lease_expires_at = NULL`,
      [
        checkpointId,
        chunk.map((row) => encodeText(row.step)),
        chunk.map((row) => encodeText(row.key)),
        chunk.map((row) => row.status),
        chunk.map((row) => row.attempts),
        chunk.map((row) => jsonParameter(row.error)),
        chunk.map((row) => (row.status === 'completed' ? jsonParameter(row.result) : null)),
        chunk.map((row) => row.at ?? null),
      ],
    );
  }
}

export async function logErrors(client: PoolClient, tables: Tables, checkpointId: string, entries: readonly ErrorLogEntry[]): Promise<void> {
  if (entries.length === 0) return;
  await client.query(
    `INSERT INTO ${tables.errors} (checkpoint_id, entry)
     SELECT $1, u.entry::json FROM unnest($2::text[]) WITH ORDINALITY AS u(entry, n) ORDER BY u.n`,
    [checkpointId, entries.map((entry) => JSON.stringify(entry))],
  );
}

/** Upserts a stage; a stage completed again moves to the end, as in the in-memory state. */
export async function writeStage(client: PoolClient, tables: Tables, checkpointId: string, stage: string, at: number, result: JsonValue | undefined): Promise<void> {
  await client.query(
    `INSERT INTO ${tables.stages} (checkpoint_id, name, completed_at, result) VALUES ($1, $2, to_timestamp($3 / 1000.0), $4::json)
     ON CONFLICT (checkpoint_id, name) DO UPDATE SET position = excluded.position, completed_at = excluded.completed_at, result = excluded.result`,
    [checkpointId, encodeText(stage), at, jsonParameter(result)],
  );
}

async function writeOther(client: PoolClient, tables: Tables, checkpointId: string, change: Exclude<CheckpointChange, ItemChange>): Promise<void> {
  const { steps, items, checkpoints } = tables;
  switch (change.op) {
    case 'step':
      await client.query(
        `INSERT INTO ${steps} (checkpoint_id, name, summary) VALUES ($1, $2, $3::json)
         ON CONFLICT (checkpoint_id, name) DO UPDATE SET summary = excluded.summary`,
        [checkpointId, encodeText(change.step), JSON.stringify(change.summary)],
      );
      return;
    case 'total':
      await client.query(
        `INSERT INTO ${steps} (checkpoint_id, name, total) VALUES ($1, $2, $3)
         ON CONFLICT (checkpoint_id, name) DO UPDATE SET total = excluded.total`,
        [checkpointId, encodeText(change.step), change.total],
      );
      return;
    case 'stage':
      await writeStage(client, tables, checkpointId, change.stage, change.at, change.result);
      return;
    case 'context':
      await client.query(`UPDATE ${checkpoints} SET context = $2::json WHERE id = $1`, [checkpointId, JSON.stringify(change.context)]);
      return;
    case 'counter':
      await client.query(
        `INSERT INTO ${tables.counters} (checkpoint_id, name, value) VALUES ($1, $2, $3)
         ON CONFLICT (checkpoint_id, name) DO UPDATE SET value = excluded.value`,
        [checkpointId, encodeText(change.name), change.value],
      );
      return;
    case 'resetStep':
      // Deleting the step deletes its items; a step used again later is new, and listed last.
      await client.query(`DELETE FROM ${steps} WHERE checkpoint_id = $1 AND name = $2`, [checkpointId, encodeText(change.step)]);
      return;
    case 'retryFailed':
      // The last error stays: it keeps a handed-back item listed (as pending) until it is done.
      await client.query(
        `UPDATE ${items} SET status = 'pending', attempts = 0, result = NULL, lease_token = NULL, lease_expires_at = NULL
         WHERE status IN ('failed', 'dead_letter')
           AND step_id IN (SELECT id FROM ${steps} WHERE checkpoint_id = $1 AND ($2::text IS NULL OR name = $2))`,
        [checkpointId, change.step === undefined ? null : encodeText(change.step)],
      );
      return;
    case 'resetAll':
      await clearCheckpoint(client, tables, checkpointId);
      await client.query(`UPDATE ${checkpoints} SET context = '{}' WHERE id = $1`, [checkpointId]);
      return;
    case 'metadata':
      await client.query(`UPDATE ${checkpoints} SET metadata = $2::json WHERE id = $1`, [checkpointId, JSON.stringify(change.metadata)]);
      return;
  }
}

/** Deletes steps (and their items), stages, counters and the error log of a checkpoint. */
export async function clearCheckpoint(client: PoolClient, tables: Tables, checkpointId: string): Promise<void> {
  for (const table of [tables.steps, tables.stages, tables.counters, tables.errors]) {
    await client.query(`DELETE FROM ${table} WHERE checkpoint_id = $1`, [checkpointId]);
  }
}
