import { randomUUID } from 'node:crypto';
import type { PoolClient } from 'pg';
import { CheckpointClosedError, CheckpointStoreError } from '../../core/errors.js';
import type { JsonValue } from '../../core/json.js';
import type { CheckpointChange, CheckpointDocument } from '../../core/model.js';
import { checkValue, rules } from '../../core/validate-options.js';
import type { CheckpointStore, LoadedCheckpoint } from '../store.js';
import { describeConnection, PostgresConnection } from './connection.js';
import { listCheckpoints, type CheckpointListing, type ListCheckpointsOptions } from './list-checkpoints.js';
import { loadDocument } from './load-document.js';
import { LOCK_NAMESPACE, migrate, migratedSchemas } from './migrations.js';
import type { PostgresStoreOptions, StageOutcome } from './options.js';
import { saveDocument } from './save-document.js';
import { runStageOnce } from './stage-once.js';
import { resolveStoreOptions } from './resolve-options.js';
import type { Tables } from './tables.js';
import { writeChanges } from './write-changes.js';
import { WriteQueue } from './write-queue.js';
import { PostgresWorkQueue } from './work-queue.js';

/** Errors kept per checkpoint; older ones are trimmed on close. */
const KEPT_ERRORS = 10_000;

/**
 * Keeps a checkpoint in PostgreSQL, where many workers on many machines can share it. Tables are
 * created on first use. Besides the CheckpointStore members, it shares work between workers:
 * `queue(step)` hands out a step's items under leases (see {@link PostgresWorkQueue}), and
 * `runStageOnce` runs work that one worker does for all.
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

  /**
   * The items of `step` as a work queue that every worker of this checkpoint shares: register,
   * claim under a lease, complete once — or `forEach`, which does all of it.
   *
   * @example
   * const report = await store.queue('transcribe').forEach(videos, transcribe, { concurrency: 8 });
   */
  queue(step: string): PostgresWorkQueue {
    checkValue('step', step, rules.nonEmptyString);
    return new PostgresWorkQueue(this.#connection, this.#tables, step, () => this.#sharedCheckpoint());
  }

  /**
   * Runs `run` in exactly one worker and records the stage as completed with its result; other
   * workers wait for it (or return at once with `wait: false`) and get that result.
   */
  async runStageOnce<T extends JsonValue | void>(stage: string, run: () => Promise<T>, options: { wait?: boolean } = {}): Promise<StageOutcome<T>> {
    return runStageOnce(this.#connection, this.#tables, await this.#sharedCheckpoint(), stage, run, { wait: options.wait ?? true });
  }

  /** Queues and stages work without an open manager: they create the checkpoint if nobody has yet. */
  async #sharedCheckpoint(): Promise<string> {
    await this.#migrated();
    return this.#checkpointId ?? (await this.#ensureCheckpoint());
  }

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
