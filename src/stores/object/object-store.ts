import { CheckpointClosedError, CheckpointError, CheckpointLockLostError, CheckpointStoreError, writeFailedError } from '../../core/errors.js';
import type { CheckpointChange, CheckpointDocument } from '../../core/model.js';
import { CheckpointState } from '../../core/state.js';
import { encodeRecord } from '../file/journal.js';
import { renderSnapshot, type SnapshotFormat } from '../file/snapshot-formats.js';
import type { CheckpointStore, LoadedCheckpoint, StoreSession } from '../store.js';
import { WriteBatcher } from '../write-batcher.js';
import { deleteKeys, type ObjectBucket } from './bucket.js';
import { createOwn, replaceOwn } from './conditional-writes.js';
import { Lease } from './lease.js';
import { backupKey, parseSegmentKey, segmentKey, segmentPrefix, type SegmentName } from './object-keys.js';
import { resolveObjectStoreOptions, type ObjectStoreOptions, type ResolvedObjectStoreOptions } from './object-store-options.js';
import { deleteRemovalLeftovers, readOrStartOver } from './open-repairs.js';

const RESOLVED = Promise.resolve();
/** Opening retries when another process changed the snapshot while it was read (a holder whose lease just ran out). */
const OPEN_ATTEMPTS = 4;

/** A mark on its way to a segment: its journal record and the line that encodes it. */
interface Waiting {
  sequence: number;
  line: string;
}

interface HeldSnapshot {
  /** Undefined only until the first snapshot is written where the backup stood in for a missing one. */
  version: string | undefined;
  bytes: Uint8Array;
  sequence: number;
  epoch: number;
}

/**
 * A checkpoint in a bucket: the snapshot object `<key>` (the same human-readable JSON or YAML
 * document a file store writes, with the epoch it was written in), create-only segment objects
 * holding the changes since, and a lease that lets one process write (see docs/object-storage.md).
 * A mark is one line of a segment, never a rewrite of the document; marks waiting together share
 * one segment; segments are folded into a new snapshot when they outgrow it and on close.
 */
export class ObjectStore implements CheckpointStore {
  readonly location: string;
  readonly #bucket: ObjectBucket;
  readonly #key: string;
  readonly #format: SnapshotFormat;
  readonly #options: ResolvedObjectStoreOptions;
  #session: StoreSession | undefined;
  #lease: Lease | undefined;
  /** The first write that failed or the lease lost: nothing after it is acknowledged, and the memory state is never saved. */
  #failed: CheckpointError | undefined;
  #fresh = false;
  #sequence = 0;
  #snapshot: HeldSnapshot | undefined;
  /** What `<key>.bak` holds (the snapshot before the current one), once this process wrote it. */
  #backupOf: { sequence: number; epoch: number } | undefined;
  #backupVersion: string | undefined;
  /** Marks on their way to a segment; made at open (a failed write latches it). */
  #writes: WriteBatcher<Waiting> | undefined;
  /** Segments this process wrote after the current snapshot, with their sizes. */
  #segmentsSinceSnapshot: { name: SegmentName; bytes: number }[] = [];
  #snapshots: Promise<void> = RESOLVED;
  #compacting = false;
  #snapshotAt = 0;
  #timers: NodeJS.Timeout[] = [];

  constructor(bucket: ObjectBucket, key: string, format: SnapshotFormat, options: ObjectStoreOptions = {}, subject = 'an object store') {
    this.#options = resolveObjectStoreOptions(options, subject);
    this.#bucket = bucket;
    this.#key = key;
    this.#format = format;
    this.location = `${bucket.location.replace(/\/$/, '')}/${key}`;
  }

  async open(session: StoreSession): Promise<LoadedCheckpoint | undefined> {
    this.#session = session;
    this.#failed = undefined;
    this.#writes = this.#newWriteBatcher();
    this.#lease = await Lease.acquire(this.#bucket, this.#key, this.location, {
      ttlMs: this.#options.leaseTtlMs,
      renewMs: this.#options.leaseRenewMs,
      onLost: (error) => {
        this.#failed ??= error;
        this.#warn('the lease was lost; further marks are refused', error);
      },
    });
    try {
      return await this.#load(session);
    } catch (error) {
      await this.#shutDown();
      throw this.#storeError('could not open the checkpoint', error);
    }
  }

  /**
   * Reads the checkpoint and, before anything can be acknowledged, writes it back as a snapshot
   * of this holder's epoch: from then on, segments a previous holder writes late are never read.
   */
  async #load(session: StoreSession): Promise<LoadedCheckpoint | undefined> {
    const opening = { bucket: this.#bucket, key: this.#key, location: this.location, lease: this.#lease!, session };
    if (opening.lease.tookOverRemoved) await deleteRemovalLeftovers(opening);
    for (let attempt = 1; ; attempt++) {
      const read = await readOrStartOver(opening, this.#format, this.#options.onCorrupt);
      await this.#lease!.raiseEpochAbove(Math.max(read.snapshot?.epoch ?? 0, ...read.segments.map((segment) => segment.epoch)));
      this.#backupVersion = read.backupVersion;
      if (!read.snapshot) {
        this.#fresh = true;
        return undefined;
      }
      const state = CheckpointState.fromDocument(read.snapshot.content, Number.MAX_SAFE_INTEGER);
      for (const record of read.records) state.apply(record.change);
      const document = state.toDocument();
      this.#sequence = read.records.at(-1)?.sequence ?? read.snapshot.content.sequence;
      this.#snapshot = { version: read.snapshot.version, bytes: read.snapshot.bytes, sequence: read.snapshot.content.sequence, epoch: read.snapshot.epoch };
      if (await this.#putSnapshot(document)) {
        await this.#lease!.forgetRemoval();
        if (read.recovered) {
          session.emit('recovered', { location: this.location, from: read.recovered.from, problems: read.recovered.problems });
        }
        this.#startTimers();
        return { document, changes: [] };
      }
      if (attempt === OPEN_ATTEMPTS) {
        throw new CheckpointStoreError(this.location, `the snapshot kept changing while it was opened (${attempt} attempts): another process is still writing it although its lease ran out — stop it, then open again`);
      }
    }
  }

  /**
   * `full` and `normal`: a mark waits for the segment that holds it (group commit). `batched`
   * acknowledges at once and writes every `batchSize` marks or `batchIntervalMs`; a mark waits
   * only when a batch is full.
   */
  #newWriteBatcher(): WriteBatcher<Waiting> {
    const { durability, batchSize, batchIntervalMs } = this.#options;
    return new WriteBatcher<Waiting>({
      commit: (records) => this.#writeSegment(records),
      ...(durability === 'batched' ? { batch: { size: batchSize, intervalMs: batchIntervalMs } } : {}),
      onUnwatchedFailure: (error) => this.#warn('a background write failed; further marks are refused', error),
    });
  }

  append(change: CheckpointChange): Promise<void> {
    this.#assertWritable();
    const sequence = ++this.#sequence;
    const written = this.#writes!.add({ sequence, line: encodeRecord(sequence, change) });
    // A loop of marks that never waits would starve the renewal timer: renew from here.
    return this.#lease!.overdue() ? Promise.all([written, this.#lease!.renew()]).then(() => undefined) : written;
  }

  #assertWritable(): void {
    if (!this.#lease) throw new CheckpointClosedError(this.location);
    if (this.#failed) throw this.#failed;
    this.#lease.assertHeld();
  }

  /** One commit: the marks waiting together (consecutive records) in one create-only segment object. */
  async #writeSegment(records: readonly Waiting[]): Promise<void> {
    this.#assertWritable();
    const key = segmentKey(this.#key, this.#lease!.epoch, records[0]!.sequence, records.at(-1)!.sequence);
    const body = Buffer.from(records.map((record) => record.line).join(''));
    let version: string | undefined;
    try {
      version = await createOwn(this.#bucket, key, body);
    } catch (error) {
      throw this.#fail(`could not write the segment ${key}`, error);
    }
    if (version === undefined) throw this.#fail(`could not write the segment ${key}`, new CheckpointLockLostError(this.location, { cause: new Error(`${key} was written by another process`) }));
    this.#segmentsSinceSnapshot.push({ name: parseSegmentKey(this.#key, key)!, bytes: body.length });
    // Acknowledged only while the lease is still trusted: a holder that was frozen past it and
    // taken over finds out here, and its segment is never read by the next holder.
    try {
      this.#lease!.assertHeld();
    } catch (error) {
      throw this.#fail('the lease ran out while a segment was written', error);
    }
    this.#maybeCompact();
  }

  #fail(what: string, error: unknown): CheckpointError {
    if (error instanceof CheckpointLockLostError) return (this.#failed ??= error);
    this.#failed ??= writeFailedError(this.location, what, error);
    return this.#failed;
  }

  /**
   * Writes `document` (up to the current sequence) as the snapshot: the previous one first goes
   * to `<key>.bak`, then the snapshot is replaced only at the version this holder knows.
   * @returns false if another process replaced the snapshot meanwhile
   */
  async #putSnapshot(document: CheckpointDocument): Promise<boolean> {
    const lease = this.#lease!;
    const sequence = this.#sequence;
    const bytes = await renderSnapshot(this.#format, { epoch: lease.epoch, ...document } as CheckpointDocument, sequence);
    const previous = this.#snapshot;
    lease.assertHeld();
    if (previous) {
      const backup = backupKey(this.#key);
      // The backup is a convenience: losing a race for it is decided by the snapshot write below.
      this.#backupVersion = this.#backupVersion === undefined ? await createOwn(this.#bucket, backup, previous.bytes) : await replaceOwn(this.#bucket, backup, previous.bytes, this.#backupVersion);
      lease.assertHeld();
    }
    const version = previous?.version !== undefined ? await replaceOwn(this.#bucket, this.#key, bytes, previous.version) : await createOwn(this.#bucket, this.#key, bytes);
    if (version === undefined) return false;
    if (previous && this.#backupVersion !== undefined) this.#backupOf = { sequence: previous.sequence, epoch: previous.epoch };
    this.#snapshot = { version, bytes, sequence, epoch: lease.epoch };
    this.#snapshotAt = performance.now();
    this.#segmentsSinceSnapshot = this.#segmentsSinceSnapshot.filter((segment) => segment.name.last > sequence);
    return true;
  }

  #maybeCompact(now = performance.now()): void {
    const snapshot = this.#snapshot;
    if (this.#compacting || this.#failed || !snapshot || !this.#lease || this.#sequence <= snapshot.sequence) return;
    const bytes = this.#segmentsSinceSnapshot.reduce((sum, segment) => sum + segment.bytes, 0);
    const every = this.#options.snapshotIntervalMs;
    const reason =
      bytes >= Math.max(snapshot.bytes.length, this.#options.minCompactBytes) ? 'segments outgrew the snapshot'
      : this.#segmentsSinceSnapshot.length >= this.#options.maxSegments ? 'too many segments'
      : every > 0 && now - this.#snapshotAt >= every ? 'snapshot refresh'
      : undefined;
    if (!reason) return;
    this.#compacting = true;
    void this.#compact(reason).catch((error: unknown) => this.#warn('compaction failed; further marks are refused', error));
  }

  /** Folds everything into a new snapshot (`document`, or the current state) and deletes the segments no snapshot or backup needs. */
  #compact(reason: string, document?: CheckpointDocument): Promise<void> {
    const run = async (): Promise<void> => {
      try {
        if (this.#failed) throw this.#failed;
        let written: boolean;
        try {
          written = await this.#putSnapshot(document ?? this.#session!.snapshot());
        } catch (error) {
          throw this.#fail('could not write the snapshot', error);
        }
        if (!written) throw this.#fail('could not write the snapshot', new CheckpointLockLostError(this.location, { cause: new Error('the snapshot was replaced by another process') }));
        await this.#deleteFoldedSegments();
        this.#session?.emit('flush', { location: this.location, reason });
      } finally {
        this.#compacting = false;
      }
    };
    this.#snapshots = this.#snapshots.then(run, run);
    return this.#snapshots;
  }

  /**
   * Deletes segments that neither the snapshot nor its backup needs: those the backup already
   * holds, and those of epochs older than the backup's (late writes of a replaced holder).
   * The backup plus the segments kept is a whole checkpoint, should the snapshot be damaged.
   */
  async #deleteFoldedSegments(): Promise<void> {
    const backup = this.#backupOf;
    if (!backup) return;
    const listed = await this.#bucket.list(segmentPrefix(this.#key));
    const folded = listed.flatMap((entry) => parseSegmentKey(this.#key, entry.key) ?? []).filter((segment) => segment.epoch < backup.epoch || segment.last <= backup.sequence);
    await this.#deleteAll(folded.map((segment) => segment.key));
  }

  /** Deletes `keys` while the lease is held. */
  async #deleteAll(keys: readonly string[]): Promise<void> {
    await deleteKeys(this.#bucket, keys, () => this.#lease?.assertHeld());
  }

  async save(document: CheckpointDocument): Promise<void> {
    this.#assertWritable();
    if (this.#fresh) {
      if (!(await this.#putSnapshot(document).catch((error: unknown) => Promise.reject(this.#storeError('could not save the checkpoint', error))))) {
        throw new CheckpointLockLostError(this.location, { cause: new Error('another process created the snapshot') });
      }
      await this.#lease!.forgetRemoval();
      this.#fresh = false;
      this.#startTimers();
      this.#session?.emit('flush', { location: this.location, reason: 'save' });
      return;
    }
    this.#compacting = true;
    await this.#compact('save', document);
  }

  async flush(): Promise<void> {
    this.#assertWritable();
    await this.#writes!.flush();
    if (this.#failed) throw this.#failed;
    this.#session?.emit('flush', { location: this.location, reason: 'flush' });
  }

  async close(): Promise<void> {
    if (!this.#lease) return;
    this.#stopTimers();
    try {
      // After a failed write the memory state may hold marks that are in no segment: saving it
      // would count a refused mark as done. The segments hold what was acknowledged.
      if (!this.#failed && !this.#fresh) await this.#settle('close');
    } catch (error) {
      throw this.#storeError('could not close the checkpoint', error);
    } finally {
      await this.#shutDown();
    }
    if (this.#failed && !(this.#failed instanceof CheckpointLockLostError)) throw this.#failed;
  }

  async #settle(reason: string): Promise<void> {
    await this.#writes!.flush();
    await this.#snapshots;
    if (this.#failed) throw this.#failed;
    if (this.#sequence > this.#snapshot!.sequence) {
      this.#compacting = true;
      await this.#compact(reason);
    }
  }

  /** Deletes the checkpoint: segments and backup first, the snapshot, and the lease last. */
  async remove(): Promise<void> {
    if (!this.#lease) throw new CheckpointClosedError(this.location);
    this.#stopTimers();
    try {
      if (!this.#fresh) {
        await this.#settle('complete');
        const segments = await this.#bucket.list(segmentPrefix(this.#key));
        await this.#deleteAll(segments.flatMap((entry) => (parseSegmentKey(this.#key, entry.key) ? [entry.key] : [])));
        await this.#deleteAll([backupKey(this.#key)]);
        this.#lease.assertHeld();
        await this.#bucket.delete(this.#key, this.#snapshot!.version);
      }
      await this.#lease.remove();
      this.#lease = undefined;
    } catch (error) {
      throw this.#storeError('could not remove the checkpoint', error);
    } finally {
      await this.#shutDown();
    }
  }

  #startTimers(): void {
    this.#snapshotAt = performance.now();
    const { snapshotIntervalMs } = this.#options;
    if (snapshotIntervalMs > 0) {
      const timer = setInterval(() => this.#maybeCompact(), snapshotIntervalMs);
      timer.unref();
      this.#timers.push(timer);
    }
  }

  #stopTimers(): void {
    for (const timer of this.#timers.splice(0)) clearInterval(timer);
  }

  async #shutDown(): Promise<void> {
    this.#stopTimers();
    // Marks that came in meanwhile are written, or refused if writing has failed.
    await this.#writes?.flush().catch(() => {});
    await this.#snapshots.catch(() => {});
    const lease = this.#lease;
    this.#lease = undefined;
    await lease?.release();
    this.#writes = undefined;
    this.#segmentsSinceSnapshot = [];
    this.#snapshot = undefined;
    this.#backupOf = undefined;
    this.#fresh = false;
    this.#sequence = 0;
  }

  #storeError(what: string, error: unknown): CheckpointError {
    if (error instanceof CheckpointError) return error;
    return new CheckpointStoreError(this.location, `${what}: ${(error as Error).message}`, { cause: error });
  }

  #warn(what: string, error: unknown): void {
    this.#session?.emit('warning', { message: `${this.location}: ${what}: ${(error as Error).message}`, cause: error });
  }
}
