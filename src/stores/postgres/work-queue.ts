import { createHash, randomUUID } from 'node:crypto';
import type { JsonValue } from '../../core/json.js';
import { checkOptions, checkValue } from '../../core/validate-options.js';
import type { ErrorInfo } from '../../core/model.js';
import type { PostgresConnection } from './connection.js';
import { LeaseLostError } from './errors.js';
import { forEachClaimed, type ClaimedItemContext, type ForEachClaimedOptions, type ForEachClaimedReport } from './for-each-claimed.js';
import type { ClaimedItem, ClaimOptions, CompleteOptions, FailOptions, Lease, StepItemCounts } from './options.js';
import type { Tables } from './tables.js';
import { decodeText, encodeText, jsonParameter } from './text-codec.js';
import { CLAIM_OPTIONS } from './resolve-options.js';
import { ensureSteps } from './write-changes.js';

const REGISTER_CHUNK = 5_000;

/** A completion of `completeMany`: the item, the token of its lease, and what to keep with it. */
export interface Completion {
  key: string;
  token: string;
  result?: JsonValue | undefined;
}

/**
 * The items of one step, shared by every worker of a checkpoint: `store.queue(step)`. Workers
 * register the items, claim batches under a lease, keep the lease alive with `extendLease`, and
 * complete, fail or release each item, fenced by the lease's token. `forEach` does all of that.
 * Every call works without an open manager: the checkpoint is created if nobody has yet.
 */
export class PostgresWorkQueue {
  readonly step: string;
  readonly #connection: PostgresConnection;
  readonly #tables: Tables;
  readonly #checkpointId: () => Promise<string>;
  readonly #encodedStep: string;
  /** SQL for "the id of step $2 of checkpoint $1"; every statement here takes those two first. */
  readonly #stepId: string;
  readonly #completeSql: string;

  /** @internal Made by `PostgresStore#queue`. */
  constructor(connection: PostgresConnection, tables: Tables, step: string, checkpointId: () => Promise<string>) {
    this.step = step;
    this.#connection = connection;
    this.#tables = tables;
    this.#checkpointId = checkpointId;
    this.#encodedStep = encodeText(step);
    this.#stepId = `(SELECT id FROM ${tables.steps} WHERE checkpoint_id = $1 AND name = $2)`;
    this.#completeSql = completeSql(tables.items, this.#stepId);
  }

  /** Names the checkpoint in messages, like the store's `location`. */
  get location(): string {
    return this.#connection.location;
  }

  /**
   * Adds items as pending unless they are there already; returns how many were new. Once a list
   * of keys has been registered in full, its fingerprint is kept with the step, and registering
   * the same list again (the other workers) is one statement, not an insert per key.
   */
  async registerItems(keys: Iterable<string>): Promise<number> {
    const all = [...new Set(keys)].map(encodeText);
    const fingerprint = keysFingerprint(all);
    const id = await this.#checkpointId();
    await this.#connection.withClient('creating the step', (client) => ensureSteps(client, this.#tables, id, [this.step]));
    const [step] = await this.#query<{ id: string; registered: boolean }>(
      'checking the registered items',
      `SELECT id, registered_keys IS NOT DISTINCT FROM $3 AS registered FROM ${this.#tables.steps} WHERE id = ${this.#stepId}`,
      [fingerprint],
    );
    if (step?.registered) return 0;
    let added = 0;
    for (let start = 0; start < all.length; start += REGISTER_CHUNK) {
      // ON CONFLICT DO NOTHING: every worker registers the same items; the first one wins.
      const rows = await this.#query<{ n: number }>(
        'registering items',
        `WITH added AS (
           INSERT INTO ${this.#tables.items} (step_id, key, status, attempts)
           SELECT ${this.#stepId}, u.key, 'pending', 0 FROM unnest($3::text[]) WITH ORDINALITY AS u(key, n) ORDER BY u.n
           ON CONFLICT (step_id, key_hash) DO NOTHING RETURNING 1)
         SELECT count(*)::int AS n FROM added`,
        [all.slice(start, start + REGISTER_CHUNK)],
      );
      added += rows[0]?.n ?? 0;
    }
    // The step as it was found: one reset and made again meanwhile has not had these inserts in full.
    await this.#connection.query('noting the registered items', `UPDATE ${this.#tables.steps} SET registered_keys = $2 WHERE id = $1`, [step?.id, fingerprint]);
    return added;
  }

  /** Leases up to `batchSize` items that no live worker holds, in the order they were registered. */
  async claim(options: ClaimOptions = {}): Promise<Lease> {
    checkOptions(options, CLAIM_OPTIONS, 'claim');
    const { batchSize = 10, leaseMs = 30_000, retryFailed = false } = options;
    const token = randomUUID();
    const rows = await this.#query<{ key: string; attempts: number }>(
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
      [batchSize, token, leaseMs, retryFailed],
    );
    const items: ClaimedItem[] = rows.map((row) => ({ key: decodeText(row.key), attempts: row.attempts }));
    return { step: this.step, token, items, leaseMs };
  }

  /** Pushes the lease of `keys` (claimed with `token`) out to `leaseMs` from now; returns the keys still held. */
  async extendLease(token: string, keys: readonly string[], leaseMs: number): Promise<string[]> {
    checkValue('leaseMs', leaseMs, CLAIM_OPTIONS.leaseMs);
    if (keys.length === 0) return [];
    const rows = await this.#query<{ key: string }>(
      'extending a lease',
      `UPDATE ${this.#tables.items} SET lease_expires_at = clock_timestamp() + $5::float8 * interval '1 millisecond'
       WHERE step_id = ${this.#stepId} AND key_hash IN (SELECT md5(k)::uuid FROM unnest($3::text[]) AS k)
         AND lease_token = $4 AND status = 'in_progress'
       RETURNING key`,
      [keys.map(encodeText), token, leaseMs],
    );
    return rows.map((row) => decodeText(row.key));
  }

  /**
   * Completes a claimed item, fenced by the lease token; throws LeaseLostError if the lease is no
   * longer this worker's. Completing twice with the same token is a no-op (a retry whose first
   * attempt committed), and `inTransaction` then does not run again.
   */
  async complete(key: string, token: string, options: CompleteOptions = {}): Promise<void> {
    const { inTransaction } = options;
    if (!inTransaction) {
      const lost = await this.completeMany([{ key, token, result: options.result }]);
      if (lost.length > 0) throw new LeaseLostError(this.location, this.step, key);
      return;
    }
    const id = await this.#checkpointId();
    await this.#connection.transaction('completing an item', async (client) => {
      const { rows } = await client.query<{ key: string; previous: string }>(this.#completeSql, [
        id,
        this.#encodedStep,
        [encodeText(key)],
        [token],
        [jsonParameter(options.result)],
      ]);
      const previous = rows[0]?.previous;
      if (previous === undefined) throw new LeaseLostError(this.location, this.step, key);
      if (previous === 'in_progress') await inTransaction(client);
    });
  }

  /** Completes many claimed items in one statement; returns the keys whose lease was lost (nothing was written for them). */
  async completeMany(entries: readonly Completion[]): Promise<string[]> {
    if (entries.length === 0) return [];
    const rows = await this.#query<{ key: string }>('completing items', this.#completeSql, [
      entries.map((entry) => encodeText(entry.key)),
      entries.map((entry) => entry.token),
      entries.map((entry) => jsonParameter(entry.result)),
    ]);
    const done = new Set(rows.map((row) => decodeText(row.key)));
    return entries.filter((entry) => !done.has(entry.key)).map((entry) => entry.key);
  }

  /** Marks a claimed item failed (a dead letter after `maxAttempts` claims); throws LeaseLostError if the lease is no longer this worker's. */
  async fail(key: string, token: string, error: ErrorInfo, options: FailOptions = {}): Promise<void> {
    const max = options.maxAttempts ?? Infinity;
    // The rule of core/item-rules.ts `statusAfterFailure`, in SQL so that the row decides in the
    // same statement; test/postgres/work-queue.test.ts holds the two to the same answers.
    const rows = await this.#query<{ status: string }>(
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
      [encodeText(key), token, JSON.stringify(error), max === Infinity ? 'Infinity' : max,
        withoutNul(error.message), withoutNul(this.step), withoutNul(key), error.name ?? null],
    );
    if (rows.length === 0) throw new LeaseLostError(this.location, this.step, key);
  }

  /** Hands claimed items back to the pool without counting the claim as an attempt; returns how many were still held. */
  async release(token: string, keys: readonly string[]): Promise<number> {
    if (keys.length === 0) return 0;
    const rows = await this.#query<{ key: string }>(
      'releasing items',
      `UPDATE ${this.#tables.items}
       SET status = 'pending', attempts = greatest(attempts - 1, 0), lease_token = NULL, lease_expires_at = NULL
       WHERE step_id = ${this.#stepId} AND key_hash IN (SELECT md5(k)::uuid FROM unnest($3::text[]) AS k)
         AND lease_token = $4 AND status = 'in_progress'
       RETURNING key`,
      [keys.map(encodeText), token],
    );
    return rows.length;
  }

  /** How many items are pending, in progress, completed… across all workers. */
  async countItems(): Promise<StepItemCounts> {
    const rows = await this.#query<{ status: string; n: number }>(
      'counting items',
      `SELECT status, count(*)::int AS n FROM ${this.#tables.items} WHERE step_id = ${this.#stepId} GROUP BY status`,
    );
    const counts: StepItemCounts = { pending: 0, inProgress: 0, completed: 0, failed: 0, deadLetter: 0 };
    for (const row of rows) counts[COUNT_FIELD[row.status]!] += row.n;
    return counts;
  }

  /** Whether any item is pending or held by a worker (whose lease may yet run out). */
  async hasUnfinishedItems(): Promise<boolean> {
    const rows = await this.#query<{ unfinished: boolean }>(
      'checking for unfinished items',
      `SELECT EXISTS (SELECT 1 FROM ${this.#tables.items} WHERE step_id = ${this.#stepId} AND status IN ('pending', 'in_progress')) AS unfinished`,
    );
    return rows[0]?.unfinished ?? false;
  }

  /**
   * Runs `fn` over the items together with every other worker that calls it for this step: each
   * item is completed by exactly one worker. Resolves when no item is pending or held by anyone.
   * See {@link ForEachClaimedOptions}.
   */
  forEach<T>(
    items: Iterable<T>,
    fn: (item: T, context: ClaimedItemContext) => Promise<JsonValue | void>,
    options?: ForEachClaimedOptions<T>,
  ): Promise<ForEachClaimedReport> {
    return forEachClaimed(this, items, fn, options);
  }

  /** A statement whose `$1` and `$2` are the checkpoint and the step, followed by `values`. */
  async #query<Row>(what: string, text: string, values: unknown[] = []): Promise<Row[]> {
    return this.#connection.query<Row>(what, text, [await this.#checkpointId(), this.#encodedStep, ...values]);
  }
}

/** A fingerprint of a list of (encoded) keys, in order: equal lists, equal fingerprints. */
function keysFingerprint(keys: readonly string[]): string {
  const hash = createHash('sha256').update(`${keys.length}\n`);
  for (const key of keys) hash.update(key).update('\u0000');
  return hash.digest('hex');
}

const COUNT_FIELD: Record<string, keyof StepItemCounts> = { pending: 'pending', in_progress: 'inProgress', completed: 'completed', failed: 'failed', dead_letter: 'deadLetter' };

/** The error log's text columns cannot hold NUL either; the log is for people, so it is dropped there. */
const withoutNul = (text: string): string => text.replaceAll('\u0000', '');

/**
 * Completes the items of `$3` fenced by their tokens in `$4`. Completing twice with the same token
 * changes nothing; `previous` tells the caller whether this statement did the completing.
 */
function completeSql(items: string, stepId: string): string {
  return `UPDATE ${items} i
     SET status = 'completed', result = u.result::json, error = NULL, lease_expires_at = NULL, updated_at = clock_timestamp()
     FROM unnest($3::text[], $4::uuid[], $5::text[]) AS u(key, token, result),
          LATERAL (SELECT step_id, key_hash, status FROM ${items}
                   WHERE step_id = ${stepId} AND key_hash = md5(u.key)::uuid AND lease_token = u.token
                     AND status IN ('in_progress', 'completed')
                   FOR UPDATE) old
     WHERE i.step_id = old.step_id AND i.key_hash = old.key_hash
     RETURNING i.key, old.status AS previous`;
}
