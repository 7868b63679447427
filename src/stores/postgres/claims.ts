import { randomUUID } from 'node:crypto';
import type { JsonValue } from '../../core/json.js';
import type { ErrorInfo } from '../../core/model.js';
import type { PostgresConnection } from './connection.js';
import { LeaseLostError } from './errors.js';
import type { ClaimedItem, ClaimOptions, CompleteOptions, FailOptions, Lease, StepItemCounts } from './options.js';
import type { Tables } from './tables.js';
import { decodeText, encodeText, jsonParameter } from './text-codec.js';
import { ensureSteps } from './write-changes.js';

const REGISTER_CHUNK = 5_000;

/** The claim API over one checkpoint's items: what many workers share. */
export class Claims {
  readonly #connection: PostgresConnection;
  readonly #tables: Tables;
  readonly #checkpointId: string;
  /** SQL for "the id of step $2 of checkpoint $1". */
  readonly #stepId: string;

  constructor(connection: PostgresConnection, tables: Tables, checkpointId: string) {
    this.#connection = connection;
    this.#tables = tables;
    this.#checkpointId = checkpointId;
    this.#stepId = `(SELECT id FROM ${tables.steps} WHERE checkpoint_id = $1 AND name = $2)`;
  }

  async registerItems(step: string, keys: Iterable<string>): Promise<number> {
    const all = [...new Set(keys)].map(encodeText);
    let added = 0;
    await this.#connection.withClient('creating the step', (client) => ensureSteps(client, this.#tables, this.#checkpointId, [step]));
    for (let start = 0; start < all.length; start += REGISTER_CHUNK) {
      const chunk = all.slice(start, start + REGISTER_CHUNK);
      // ON CONFLICT DO NOTHING: every worker registers the same items; the first one wins.
      const rows = await this.#connection.query<{ n: number }>(
        'registering items',
        `WITH added AS (
           INSERT INTO ${this.#tables.items} (step_id, key, status, attempts)
           SELECT ${this.#stepId}, u.key, 'pending', 0 FROM unnest($3::text[]) WITH ORDINALITY AS u(key, n) ORDER BY u.n
           ON CONFLICT (step_id, key_hash) DO NOTHING RETURNING 1)
         SELECT count(*)::int AS n FROM added`,
        [this.#checkpointId, encodeText(step), chunk],
      );
      added += rows[0]?.n ?? 0;
    }
    return added;
  }

  async claim(step: string, options: Required<ClaimOptions>): Promise<Lease> {
    const token = randomUUID();
    const rows = await this.#connection.query<{ key: string; attempts: number }>(
      'claiming items',
      `WITH next AS (
         SELECT step_id, key_hash FROM ${this.#tables.items}
         WHERE step_id = ${this.#stepId}
           AND (status = 'pending'
                OR (status = 'in_progress' AND (lease_expires_at IS NULL OR lease_expires_at < clock_timestamp()))
                OR (status = 'failed' AND $6::boolean))
         ORDER BY seq LIMIT $3
         FOR UPDATE SKIP LOCKED)
       UPDATE ${this.#tables.items} i
       SET status = 'in_progress', attempts = i.attempts + 1, lease_token = $4,
           lease_expires_at = clock_timestamp() + $5::float8 * interval '1 millisecond', updated_at = clock_timestamp()
       FROM next WHERE i.step_id = next.step_id AND i.key_hash = next.key_hash
       RETURNING i.key, i.attempts`,
      [this.#checkpointId, encodeText(step), options.batchSize, token, options.leaseMs, options.retryFailed],
    );
    const items: ClaimedItem[] = rows.map((row) => ({ key: decodeText(row.key), attempts: row.attempts }));
    return { step, token, items, leaseMs: options.leaseMs };
  }

  /** Pushes the lease of `keys` out by `leaseMs`; returns the keys still held. */
  async extendLease(step: string, token: string, keys: readonly string[], leaseMs: number): Promise<string[]> {
    if (keys.length === 0) return [];
    const rows = await this.#connection.query<{ key: string }>(
      'extending a lease',
      `UPDATE ${this.#tables.items} SET lease_expires_at = clock_timestamp() + $5::float8 * interval '1 millisecond'
       WHERE step_id = ${this.#stepId} AND key_hash IN (SELECT md5(k)::uuid FROM unnest($3::text[]) AS k)
         AND lease_token = $4 AND status = 'in_progress'
       RETURNING key`,
      [this.#checkpointId, encodeText(step), keys.map(encodeText), token, leaseMs],
    );
    return rows.map((row) => decodeText(row.key));
  }

  /**
   * Completes an item, fenced by the lease token. Completing twice with the same token is a
   * no-op (a retry whose first attempt committed), and `inTransaction` then does not run again.
   */
  async complete(step: string, key: string, token: string, options: CompleteOptions = {}): Promise<void> {
    const { inTransaction } = options;
    if (!inTransaction) {
      const lost = await this.completeMany(step, [{ key, token, result: options.result }]);
      if (lost.length > 0) throw new LeaseLostError(this.#connection.location, step, key);
      return;
    }
    await this.#connection.transaction('completing an item', async (client) => {
      const { rows } = await client.query<{ key: string; previous: string }>(this.#completeSql, [
        this.#checkpointId,
        encodeText(step),
        [encodeText(key)],
        [token],
        [jsonParameter(options.result)],
      ]);
      const previous = rows[0]?.previous;
      if (previous === undefined) throw new LeaseLostError(this.#connection.location, step, key);
      if (previous === 'in_progress') await inTransaction(client);
    });
  }

  /**
   * Completes many items in one statement, each fenced by its own token; returns the keys whose
   * lease was lost (nothing was written for them).
   */
  async completeMany(step: string, entries: readonly { key: string; token: string; result?: JsonValue | undefined }[]): Promise<string[]> {
    if (entries.length === 0) return [];
    const rows = await this.#connection.query<{ key: string }>('completing items', this.#completeSql, [
      this.#checkpointId,
      encodeText(step),
      entries.map((entry) => encodeText(entry.key)),
      entries.map((entry) => entry.token),
      entries.map((entry) => jsonParameter(entry.result)),
    ]);
    const done = new Set(rows.map((row) => decodeText(row.key)));
    return entries.filter((entry) => !done.has(entry.key)).map((entry) => entry.key);
  }

  /**
   * Completing twice with the same token changes nothing (a retry whose first attempt committed);
   * \`previous\` tells the caller whether this statement did the completing.
   */
  get #completeSql(): string {
    const items = this.#tables.items;
    return `UPDATE ${items} i
       SET status = 'completed', result = u.result::json, error = NULL, lease_expires_at = NULL, updated_at = clock_timestamp()
       FROM unnest($3::text[], $4::uuid[], $5::text[]) AS u(key, token, result),
            LATERAL (SELECT step_id, key_hash, status FROM ${items}
                     WHERE step_id = ${this.#stepId} AND key_hash = md5(u.key)::uuid AND lease_token = u.token
                       AND status IN ('in_progress', 'completed')
                     FOR UPDATE) old
       WHERE i.step_id = old.step_id AND i.key_hash = old.key_hash
       RETURNING i.key, old.status AS previous`;
  }

  /** Marks an item failed (or a dead letter after `maxAttempts`), fenced by the lease token. */
  async fail(step: string, key: string, token: string, error: ErrorInfo, options: FailOptions = {}): Promise<void> {
    const max = options.maxAttempts ?? Infinity;
    const rows = await this.#connection.query<{ status: string }>(
      'failing an item',
      `WITH failed AS (
         UPDATE ${this.#tables.items}
         SET status = CASE WHEN attempts >= $6::float8 THEN 'dead_letter' ELSE 'failed' END,
             error = $5::json, result = NULL, lease_expires_at = NULL, updated_at = clock_timestamp()
         WHERE step_id = ${this.#stepId} AND key_hash = md5($3)::uuid AND lease_token = $4
           AND status IN ('in_progress', 'failed', 'dead_letter')
         RETURNING status, updated_at),
       logged AS (
         INSERT INTO ${this.#tables.errors} (checkpoint_id, entry)
         SELECT $1, (json_build_object('at', to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
                                      'message', $7::text, 'step', $8::text, 'key', $9::text)::jsonb
                    || CASE WHEN $10::text IS NULL THEN '{}'::jsonb ELSE jsonb_build_object('name', $10::text) END)::json
         FROM failed)
       SELECT status FROM failed`,
      [this.#checkpointId, encodeText(step), encodeText(key), token, JSON.stringify(error), max === Infinity ? 'Infinity' : max,
        error.message.replaceAll('\u0000', ''), step.replaceAll('\u0000', ''), key.replaceAll('\u0000', ''), error.name ?? null],
    );
    if (rows.length === 0) throw new LeaseLostError(this.#connection.location, step, key);
  }

  /** Hands items back to the pool without counting the claim as an attempt. */
  async release(step: string, token: string, keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    const rows = await this.#connection.query<{ key: string }>(
      'releasing items',
      `UPDATE ${this.#tables.items}
       SET status = 'pending', attempts = greatest(attempts - 1, 0), lease_token = NULL, lease_expires_at = NULL
       WHERE step_id = ${this.#stepId} AND key_hash IN (SELECT md5(k)::uuid FROM unnest($3::text[]) AS k)
         AND lease_token = $4 AND status = 'in_progress'
       RETURNING key`,
      [this.#checkpointId, encodeText(step), keys.map(encodeText), token],
    );
    return rows.length;
  }

  /** Items of a step by status, across all workers. */
  async countItems(step: string): Promise<StepItemCounts> {
    const rows = await this.#connection.query<{ status: string; n: number }>(
      'counting items',
      `SELECT status, count(*)::int AS n FROM ${this.#tables.items} WHERE step_id = ${this.#stepId} GROUP BY status`,
      [this.#checkpointId, encodeText(step)],
    );
    const counts: StepItemCounts = { pending: 0, inProgress: 0, completed: 0, failed: 0, deadLetter: 0 };
    const field: Record<string, keyof StepItemCounts> = { pending: 'pending', in_progress: 'inProgress', completed: 'completed', failed: 'failed', dead_letter: 'deadLetter' };
    for (const row of rows) counts[field[row.status]!] += row.n;
    return counts;
  }

  /** Whether any item of the step is pending or held by a worker (whose lease may yet run out). */
  async hasUnfinished(step: string): Promise<boolean> {
    const rows = await this.#connection.query<{ unfinished: boolean }>(
      'checking for unfinished items',
      `SELECT EXISTS (SELECT 1 FROM ${this.#tables.items} WHERE step_id = ${this.#stepId} AND status IN ('pending', 'in_progress')) AS unfinished`,
      [this.#checkpointId, encodeText(step)],
    );
    return rows[0]?.unfinished ?? false;
  }
}
