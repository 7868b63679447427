import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import { CheckpointClosedError, CheckpointStoreError } from '../../core/errors.js';
import type { JsonValue } from '../../core/json.js';
import type { CheckpointChange, CheckpointDocument, ErrorInfo } from '../../core/model.js';
import type { CheckpointStore, LoadedCheckpoint } from '../store.js';
import { Claims } from './claims.js';
import { describeConnection, PostgresConnection } from './connection.js';
import { listCheckpoints, type CheckpointListing, type ListCheckpointsOptions } from './list-checkpoints.js';
import { loadDocument } from './load-document.js';
import { LOCK_NAMESPACE, migrate, migratedSchemas } from './migrations.js';
import type { ClaimOptions, CompleteOptions, FailOptions, Lease, PostgresStoreOptions, StageOutcome, StepItemCounts } from './options.js';
import { saveDocument } from './save-document.js';
import { runStageOnce } from './stage-once.js';
import { resolveStoreOptions } from './resolve-options.js';
import type { Tables } from './tables.js';
import { writeChanges } from './write-changes.js';
import { WriteQueue } from './write-queue.js';
import { positiveInteger } from './validate.js';

/** Errors kept per checkpoint; older ones are trimmed on close. */
const KEPT_ERRORS = 10_000;

/**
 * Keeps a checkpoint in PostgreSQL, where many workers on many machines can share it. Tables are
 * created on first use. Besides the CheckpointStore members, it hands out a step's items to
 * workers under leases: `registerItems`, `claim`, `extendLease`, `complete`, `fail`, `release`
 * (or `forEachClaimed`, which does all of it), and `runStageOnce` for work that one worker does.
 *
 * @example
 * const store = new PostgresStore({ connectionString: process.env.DATABASE_URL, pipeline: 'fri_level' });
 * const cp = await CheckpointManager.open({ store, pipeline: 'fri_level' });
 */
export class PostgresStore implements CheckpointStore {
  readonly location: string;
  readonly #connection: PostgresConnection;
  readonly #tables: Tables;
  readonly #identity: { pipeline: string; run: string };
  readonly #queue: WriteQueue;
  readonly #migratedSchemas: Set<string>;
  /** Empty, or the statement that makes this store's transactions commit without waiting for the disk. */
  readonly #synchronousCommit: string;
  #ready: Promise<void> | undefined;
  #checkpointId: string | undefined;
  /** Held from an open that found no checkpoint until its save, so that concurrent first opens create one checkpoint. */
  #creating: { release(): void } | undefined;
  #closed = false;

  constructor(options: PostgresStoreOptions) {
    const resolved = resolveStoreOptions(options);
    const { connectionString, pool, tables, pipeline, run } = resolved;
    this.#tables = tables;
    this.#identity = { pipeline, run };
    this.location = `${describeConnection(connectionString)} ${tables.schema}/${pipeline}${run ? `/${run}` : ''}`;
    this.#migratedSchemas = migratedSchemas(pool, connectionString);
    this.#connection = new PostgresConnection({ connectionString, pool, retry: resolved.retry, location: this.location });
    this.#queue = new WriteQueue((changes) => this.#write(changes), resolved);
    this.#synchronousCommit = resolved.durability === 'full' ? '' : 'SET LOCAL synchronous_commit = off';
  }

  /**
   * The checkpoints in a schema, by pipeline and run, with their item counts. Creates no tables
   * and takes no locks; a schema where nothing was saved yet has none.
   */
  static list(options: ListCheckpointsOptions): Promise<CheckpointListing[]> {
    return listCheckpoints(options);
  }

  async open(): Promise<LoadedCheckpoint | undefined> {
    this.#closed = false;
    try {
      return await this.#open();
    } catch (error) {
      this.#closed = true;
      this.#releaseCreationLock();
      await this.#connection.end().catch(() => {});
      throw error;
    }
  }

  async #open(): Promise<LoadedCheckpoint | undefined> {
    await this.#migrated();
    let id = await this.#findCheckpoint();
    if (id === undefined) {
      const held = await this.#connection.hold('locking a new checkpoint');
      try {
        await held.client.query('SELECT pg_advisory_lock($1, hashtext($2))', [LOCK_NAMESPACE, this.#lockKey()]);
        id = await this.#findCheckpoint(held.client);
      } catch (error) {
        held.release();
        throw error;
      }
      if (id === undefined) {
        this.#creating = held;
        return undefined;
      }
      held.release();
    }
    this.#checkpointId = id;
    return { document: await loadDocument(this.#connection, this.#tables, id), changes: [] };
  }

  /**
   * Reads the checkpoint without creating tables or taking locks (for inspection tools while
   * workers run); `undefined` if there is none. Does not open the store for writing.
   */
  async read(): Promise<CheckpointDocument | undefined> {
    let id: string | undefined;
    try {
      id = await this.#findCheckpoint();
    } catch (error) {
      // No tables yet: nothing was ever saved in this schema.
      const code = error instanceof CheckpointStoreError ? (error.cause as { code?: unknown } | undefined)?.code : undefined;
      if (code === '42P01' || code === '3F000') return undefined;
      throw error;
    }
    return id === undefined ? undefined : loadDocument(this.#connection, this.#tables, id);
  }

  append(change: CheckpointChange): Promise<void> {
    if (this.#closed) return Promise.reject(new CheckpointClosedError(this.location));
    return this.#queue.append(change);
  }

  async save(document: CheckpointDocument): Promise<void> {
    this.#assertOpen();
    await this.#queue.flush();
    this.#checkpointId = await this.#connection.transaction('saving the checkpoint', (client) =>
      saveDocument(client, this.#tables, this.#identity, document),
    );
    this.#releaseCreationLock();
  }

  async flush(): Promise<void> {
    await this.#queue.flush();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    try {
      await this.#queue.flush();
      if (this.#checkpointId !== undefined) await this.#trimErrors(this.#checkpointId);
    } finally {
      this.#releaseCreationLock();
      await this.#connection.end();
    }
  }

  async remove(): Promise<void> {
    await this.#queue.discard();
    try {
      await this.#migrated();
      await this.#connection.query('deleting the checkpoint', `DELETE FROM ${this.#tables.checkpoints} WHERE pipeline = $1 AND run = $2`, [
        this.#identity.pipeline,
        this.#identity.run,
      ]);
      this.#checkpointId = undefined;
    } finally {
      this.#closed = true;
      this.#releaseCreationLock();
      await this.#connection.end();
    }
  }

  /** Adds items to a step, as pending, unless they are there already; returns how many were new. */
  async registerItems(step: string, keys: Iterable<string>): Promise<number> {
    return (await this.#claims()).registerItems(step, keys);
  }

  /** Leases up to `batchSize` items of the step that no live worker holds. */
  async claim(step: string, options: ClaimOptions = {}): Promise<Lease> {
    return (await this.#claims()).claim(step, {
      batchSize: positiveInteger('batchSize', options.batchSize ?? 10),
      leaseMs: positiveInteger('leaseMs', options.leaseMs ?? 30_000),
      retryFailed: options.retryFailed ?? false,
    });
  }

  /** Extends the lease of `keys` (claimed with `token`) by `leaseMs`; returns the keys still held. */
  async extendLease(step: string, token: string, keys: readonly string[], leaseMs: number): Promise<string[]> {
    return (await this.#claims()).extendLease(step, token, keys, positiveInteger('leaseMs', leaseMs));
  }

  /** Completes a claimed item; throws LeaseLostError if the lease is no longer this worker's. */
  async complete(step: string, key: string, token: string, options?: CompleteOptions): Promise<void> {
    return (await this.#claims()).complete(step, key, token, options);
  }

  /** Completes many claimed items in one statement; returns the keys whose lease was lost. */
  async completeMany(step: string, entries: readonly { key: string; token: string; result?: JsonValue | undefined }[]): Promise<string[]> {
    return (await this.#claims()).completeMany(step, entries);
  }

  /** Fails a claimed item; throws LeaseLostError if the lease is no longer this worker's. */
  async fail(step: string, key: string, token: string, error: ErrorInfo, options?: FailOptions): Promise<void> {
    return (await this.#claims()).fail(step, key, token, error, options);
  }

  /** Hands claimed items back without counting an attempt; returns how many were still held. */
  async release(step: string, token: string, keys: readonly string[]): Promise<number> {
    return (await this.#claims()).release(step, token, keys);
  }

  /** How many items of the step are pending, in progress, completed… across all workers. */
  async countItems(step: string): Promise<StepItemCounts> {
    return (await this.#claims()).countItems(step);
  }

  /** Whether any item of the step is pending or held by a worker. */
  async hasUnfinishedItems(step: string): Promise<boolean> {
    return (await this.#claims()).hasUnfinished(step);
  }

  /**
   * Runs `run` in exactly one worker and records the stage as completed with its result; other
   * workers wait for it (or return at once with `wait: false`) and get that result.
   */
  async runStageOnce<T extends JsonValue | void>(stage: string, run: () => Promise<T>, options: { wait?: boolean } = {}): Promise<StageOutcome<T>> {
    await this.#migrated();
    const id = this.#checkpointId ?? (await this.#ensureCheckpoint());
    return runStageOnce(this.#connection, this.#tables, id, stage, run, { wait: options.wait ?? true });
  }

  async #claims(): Promise<Claims> {
    await this.#migrated();
    return new Claims(this.#connection, this.#tables, this.#checkpointId ?? (await this.#ensureCheckpoint()));
  }

  /** The claim API works without an open manager: it creates the checkpoint if nobody has yet. */
  async #ensureCheckpoint(): Promise<string> {
    const now = new Date().toISOString();
    const metadata = { pipeline: this.#identity.pipeline, runId: randomUUID(), createdAt: now, updatedAt: now };
    const rows = await this.#connection.query<{ id: string }>(
      'creating the checkpoint',
      `WITH added AS (
         INSERT INTO ${this.#tables.checkpoints} (pipeline, run, metadata) VALUES ($1, $2, $3::json)
         ON CONFLICT (pipeline, run) DO NOTHING RETURNING id)
       SELECT id FROM added UNION ALL SELECT id FROM ${this.#tables.checkpoints} WHERE pipeline = $1 AND run = $2`,
      [this.#identity.pipeline, this.#identity.run, JSON.stringify(metadata)],
    );
    const id = rows[0]?.id ?? (await this.#findCheckpoint());
    if (id === undefined) throw new CheckpointStoreError(this.location, 'the checkpoint could not be created — try again');
    this.#checkpointId = id;
    return id;
  }

  async #write(changes: CheckpointChange[]): Promise<void> {
    const id = this.#checkpointId;
    if (id === undefined) throw new CheckpointStoreError(this.location, 'a change was made before the checkpoint was opened or saved');
    await this.#connection.withClient('saving changes', async (client) => {
      await client.query(`BEGIN; ${this.#synchronousCommit}`);
      await writeChanges(client, this.#tables, id, changes);
      await client.query('COMMIT');
    });
  }

  #migrated(): Promise<void> {
    const { schema, quoted } = this.#tables;
    if (this.#migratedSchemas.has(schema)) return Promise.resolve();
    this.#ready ??= migrate(this.#connection, schema, quoted).then(
      () => {
        this.#migratedSchemas.add(schema);
      },
      (error: unknown) => {
        this.#ready = undefined;
        throw error;
      },
    );
    return this.#ready;
  }

  async #findCheckpoint(client?: PoolClient): Promise<string | undefined> {
    const text = `SELECT id FROM ${this.#tables.checkpoints} WHERE pipeline = $1 AND run = $2`;
    const values = [this.#identity.pipeline, this.#identity.run];
    const rows = client
      ? (await client.query<{ id: string }>(text, values)).rows
      : await this.#connection.query<{ id: string }>('finding the checkpoint', text, values);
    return rows[0]?.id;
  }

  async #trimErrors(id: string): Promise<void> {
    await this.#connection.query(
      'trimming the error log',
      `DELETE FROM ${this.#tables.errors} WHERE checkpoint_id = $1 AND id < (
         SELECT id FROM ${this.#tables.errors} WHERE checkpoint_id = $1 ORDER BY id DESC OFFSET $2 LIMIT 1)`,
      [id, KEPT_ERRORS - 1],
    );
  }

  #lockKey(): string {
    return JSON.stringify([this.#tables.schema, this.#identity.pipeline, this.#identity.run]);
  }

  #releaseCreationLock(): void {
    this.#creating?.release();
    this.#creating = undefined;
  }

  #assertOpen(): void {
    if (this.#closed) throw new CheckpointClosedError(this.location);
  }
}
