import { mkdirSync, renameSync, unlinkSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { CheckpointClosedError, CheckpointError, CheckpointLockLostError, CheckpointStoreError } from '../../core/errors.js';
import type { CheckpointChange, CheckpointDocument } from '../../core/model.js';
import type { CheckpointStore, LoadedCheckpoint, StoreSession } from '../store.js';
import { FileLock } from './file-lock.js';
import { readLockHolder } from './lock-owner.js';
import { resolvedOptions, withEnvironmentOptions, type Durability, type FileStoreOptions, type ResolvedFileStoreOptions } from './file-store-options.js';
import { fsyncDirectory, removeIfExists, removeStaleTemporaryFiles } from './fs-durable.js';
import { encodeRecord } from './journal-record.js';
import { InlineSyncBudget, JournalFile, rewriteJournal, sealedJournalName, sealedJournals, type JournalRecord } from './journal.js';
import { openFiles } from './recovery.js';
import { formatForPath, jsonFormat, yamlFormat, type SnapshotFormat } from './snapshot-formats.js';
import { holdsProgress, ownBackups, writeSnapshot } from './snapshot-file.js';
import { GroupCommit } from './group-commit.js';
import { crashPoint } from './crash-point.js';
import { assertNever } from '../../core/assert-never.js';
import { checkValue, rules } from '../../core/validate-options.js';

const RESOLVED = Promise.resolve();
/** While a compaction runs, one mark in this many lets the event loop turn (see #backpressure)… */
const MARKS_PER_YIELD = 256;
/** …and one in this many once the new journal has outgrown the snapshot again. */
const MARKS_PER_YIELD_BEHIND = 16;

/**
 * A checkpoint kept as a human-readable snapshot plus an append-only journal beside it
 * (`<file>.journal`). A mark appends one checksummed line — O(1), not a rewrite of the file.
 * When the journal outgrows the snapshot (and on close) the journal is sealed, a new snapshot is
 * written atomically, the previous one becomes a `.bak`, and the sealed journal is deleted.
 */
export class FileStore implements CheckpointStore {
  readonly location: string;
  readonly path: string;
  readonly #journalPath: string;
  readonly #format: SnapshotFormat;
  readonly #durability: Durability;
  readonly #options: ResolvedFileStoreOptions;
  #session: StoreSession | undefined;
  #journal: JournalFile | undefined;
  #lock: FileLock | undefined;
  #lockLost: Error | undefined;
  /** The first write that failed: nothing after it is acknowledged, and the memory state (which holds the failed change) is never saved. */
  #failed: CheckpointStoreError | undefined;
  /** A new checkpoint whose first snapshot is not written yet (it has no journal until then). */
  #fresh = false;
  /** Set when opened without the lock while another process holds it: every write is refused with it. */
  #readOnly: CheckpointStoreError | undefined;
  #lastSyncAt = 0;
  #marksSinceYield = 0;
  #sequence = 0;
  #sealed = 0;
  #snapshotBytes = 0;
  /** Whether the snapshot on disk holds progress: only then is it kept as a backup when replaced. */
  #snapshotHoldsProgress = false;
  #pending: string[] = [];
  #unsynced = false;
  #directoryUnsynced = false;
  /** The latest fsync of the directory: a sync that finds one in flight waits for it too. */
  #directorySync: Promise<void> = RESOLVED;
  readonly #inlineSyncs = new InlineSyncBudget();
  #timer: NodeJS.Timeout | undefined;
  #refreshTimer: NodeJS.Timeout | undefined;
  /** When the snapshot last took in the journal (or the journal was last empty). */
  #snapshotAt = 0;
  #snapshots: Promise<void> = RESOLVED;
  #compacting = false;
  readonly #commits = new GroupCommit(() => this.#commitPending());

  constructor(path: string, format: SnapshotFormat, options: FileStoreOptions = {}) {
    checkValue('path', path, rules.nonEmptyString);
    // The environment is read once, here: a store keeps what it was made with.
    this.#options = resolvedOptions(withEnvironmentOptions(options));
    this.path = resolve(path);
    this.location = path;
    this.#journalPath = `${this.path}.journal`;
    this.#format = format;
    this.#durability = this.#options.durability;
  }

  async open(session: StoreSession): Promise<LoadedCheckpoint | undefined> {
    this.#session = session;
    try {
      mkdirSync(dirname(this.path), { recursive: true });
    } catch (error) {
      throw new CheckpointStoreError(this.location, `cannot create its directory ${dirname(this.path)}: ${(error as Error).message} — point \`path\` at a writable directory`, { cause: error });
    }
    // Without the lock, beside a process that holds it, this store only reads: its records would
    // land in the holder's journal with sequence numbers of their own and fork the checkpoint.
    // (Checked again before every write: see #assertWritesAllowed.)
    if (!this.#options.lock) this.#readOnly = this.#refusalBeside(readLockHolder(this.path));
    if (this.#options.lock) {
      this.#lock = await FileLock.acquire(this.path, (error) => {
        this.#lockLost = error;
        session.emit('warning', { message: `${this.location}: lock lost (${error.message}); further writes are refused`, cause: error });
      });
    }
    crashPoint('open');
    try {
      if (this.#lock) removeStaleTemporaryFiles(this.path);
      return await this.#load(session);
    } catch (error) {
      await this.#lock?.release();
      this.#lock = undefined;
      throw this.#storeError('could not open the checkpoint', error);
    }
  }

  async #load(session: StoreSession): Promise<LoadedCheckpoint | undefined> {
    const loaded = await openFiles(this.path, this.location, this.#format, this.#options.onCorrupt, session);
    this.#sequence = loaded.sequence;
    this.#snapshotBytes = loaded.snapshotBytes;
    this.#snapshotHoldsProgress = loaded.document !== undefined && holdsProgress(loaded.document);
    // Without the lock another process may be writing: rewriting its journal would lose records.
    // A holder taken over on another host may still be running and append to the journal it has
    // open: give the journal a new file, so that nothing it writes late is ever read.
    const rewrite = this.#options.lock && (!loaded.tidy || this.#lock?.tookOverLiveHolder === true);
    // A new checkpoint gets its snapshot before its journal (in save): a journal without a
    // snapshot beside it then always means damage, never "not written yet".
    if (!loaded.document) {
      this.#fresh = true;
      return undefined;
    }
    await this.#startJournal(rewrite ? loaded.records : undefined);
    return { document: loaded.document, changes: loaded.records.map((record) => record.change) };
  }

  /** Opens the journal for appending; first rewrites it to hold just `records`, if given. */
  async #startJournal(records: JournalRecord[] | undefined): Promise<void> {
    if (records) {
      await rewriteJournal(this.#journalPath, records.map((record) => encodeRecord(record.sequence, record.change)).join(''));
      crashPoint('open:after-journal-rewrite');
      for (const sealed of sealedJournals(this.#journalPath)) await removeIfExists(sealed);
      await fsyncDirectory(this.path);
    }
    const existing = await readFile(this.#journalPath).then((buffer) => buffer.length, () => 0);
    try {
      this.#journal = new JournalFile(this.#journalPath, existing);
    } catch (error) {
      throw new CheckpointStoreError(this.location, `cannot open the journal ${this.#journalPath} for appending: ${(error as Error).message}`, { cause: error });
    }
    this.#directoryUnsynced = true;
    this.#startTimer();
  }

  #startTimer(): void {
    this.#snapshotAt = Date.now();
    const refreshEvery = this.#options.snapshotIntervalMs;
    if (refreshEvery > 0 && this.#options.lock) {
      // A run that pauses between bursts of marks still gets its snapshot refreshed.
      this.#refreshTimer = setInterval(() => this.#maybeCompact(), refreshEvery);
      this.#refreshTimer.unref();
    }
    const every = this.#durability === 'normal' ? this.#options.fsyncIntervalMs : this.#durability === 'batched' ? this.#options.batchIntervalMs : 0;
    if (every <= 0) return;
    this.#timer = setInterval(() => {
      try {
        if (this.#durability === 'batched') this.#writePending();
        else if (this.#unsynced) this.#startPeriodicSync(Date.now());
      } catch (error) {
        this.#warn('a background write failed; further marks are refused', error);
      }
    }, every);
    this.#timer.unref();
  }

  append(change: CheckpointChange): Promise<void> {
    const journal = this.#writable();
    const line = encodeRecord(++this.#sequence, change);
    switch (this.#durability) {
      case 'normal': {
        this.#writeSync(journal, line);
        // Acknowledged only while the lock is provably ours (checked after the write, so the
        // write came first), and with upkeep done here when a busy loop starves the timers.
        const now = Date.now();
        this.#lock?.confirm(now);
        const every = this.#options.fsyncIntervalMs;
        if (every > 0 && this.#unsynced && now - this.#lastSyncAt >= every) this.#startPeriodicSync(now);
        this.#maybeCompact(now);
        return this.#backpressure();
      }
      case 'batched':
        this.#pending.push(line);
        if (this.#pending.length >= this.#options.batchSize) this.#writePending();
        this.#lock?.confirm();
        return this.#backpressure();
      case 'full':
        this.#pending.push(line);
        return this.#commits.request();
      default:
        return assertNever(this.#durability);
    }
  }

  #writable(): JournalFile {
    this.#assertWritesAllowed();
    if (!this.#journal) throw new CheckpointClosedError(this.location);
    return this.#journal;
  }

  #assertWritesAllowed(): void {
    if (this.#lockLost) throw new CheckpointLockLostError(this.location, { cause: this.#lockLost });
    if (this.#failed) throw this.#failed;
    // Without the lock, a holder may have come since open: from then on, only read.
    if (!this.#options.lock && !this.#readOnly) this.#readOnly = this.#refusalBeside(readLockHolder(this.path));
    if (this.#readOnly) throw this.#readOnly;
  }

  #refusalBeside(holder: { pid?: number; host?: string } | undefined): CheckpointStoreError | undefined {
    // A lock whose holder is not written yet is refused once it is (checked again on every write).
    if (holder?.pid === undefined) return undefined;
    return new CheckpointStoreError(this.location, `opened with { lock: false } while process ${holder.pid} on ${holder.host} holds the lock: it can be read, and every write is refused so that two writers never fork the checkpoint — open it with the lock to write`);
  }

  /** An fsync for `normal` durability, started from a mark or the timer, whichever comes first. */
  #startPeriodicSync(now: number): void {
    this.#lastSyncAt = now;
    void this.#syncJournal().catch((error: unknown) => this.#warn('periodic fsync failed', error));
  }

  /**
   * Marks that resolve at once never let the event loop turn, and a compaction that yields
   * between chunks would never finish: while one runs, marks let the loop turn now and then, and
   * once the new journal is twice the snapshot's size, the next mark waits for the compaction.
   * The journals stay within about three times the snapshot.
   */
  #backpressure(): Promise<void> {
    const journal = this.#journal;
    if (!this.#compacting || !journal) return RESOLVED;
    const compactAt = this.#compactAt();
    if (journal.bytes >= 2 * compactAt) {
      return this.#snapshots.then(
        () => {},
        () => {},
      );
    }
    // Before that bound, every so many marks let the event loop turn once, so that the
    // compaction moves on a chunk at a time and no single mark waits for all of it; more often
    // once the new journal has outgrown the snapshot again.
    if (++this.#marksSinceYield < (journal.bytes >= compactAt ? MARKS_PER_YIELD_BEHIND : MARKS_PER_YIELD)) return RESOLVED;
    this.#marksSinceYield = 0;
    return new Promise((resolve) => setImmediate(resolve));
  }

  #compactAt(): number {
    return Math.max(this.#snapshotBytes, this.#options.minCompactBytes);
  }

  #writeSync(journal: JournalFile, text: string): void {
    try {
      journal.writeSync(text);
      crashPoint('journal:after-write');
    } catch (error) {
      throw this.#fail(`could not append to the journal ${journal.path}`, error);
    }
    this.#unsynced = true;
  }

  /**
   * Latches a failed write: the change is in memory but not on disk, so from now on nothing
   * is acknowledged and close() does not save the memory state — reopening resumes from
   * exactly what was acknowledged.
   */
  #fail(what: string, error: unknown): CheckpointError {
    if (error instanceof CheckpointLockLostError) return error;
    this.#failed ??= new CheckpointStoreError(this.location, `${what}: ${(error as Error).message} — nothing after this mark is written; free the disk (or fix the cause) and reopen the checkpoint to resume from what was acknowledged`, { cause: error });
    return this.#failed;
  }

  #writePending(): void {
    if (this.#pending.length === 0 || !this.#journal) return;
    // A batch is written only while the lock is ours (or, without one, while no one holds it):
    // a taken-over holder must not write into a file its successor reads.
    this.#assertWritesAllowed();
    this.#lock?.confirm();
    const text = this.#pending.join('');
    this.#pending = [];
    this.#writeSync(this.#journal, text);
    this.#maybeCompact();
  }

  /** One group commit (`full`): every record appended since the last one, one write, one fsync. */
  async #commitPending(): Promise<void> {
    const journal = this.#writable();
    const alone = this.#pending.length === 1;
    const text = this.#pending.join('');
    this.#pending = [];
    try {
      // Written synchronously: a group commit's records are a few kilobytes that reach the page
      // cache in microseconds, and a commit then needs one trip to the thread pool (the
      // fdatasync) instead of two — on a busy machine every trip waits to be scheduled.
      journal.writeSync(text);
      crashPoint('journal:after-write');
      // A compaction may have sealed (and closed) this journal while the write was in flight:
      // an fsync of it would be skipped, so these records are durable once its snapshot is.
      if (journal !== this.#journal) await this.#snapshots;
      // A lone record has no one to share its fsync with: on a fast disk, sync it here rather
      // than pay a round trip to the thread pool. Groups sync off the event loop, where more
      // marks can gather. The journal's name must be durable too: not while a new journal
      // still needs its directory fsynced, and not before one already started has finished.
      else if (alone && !this.#directoryUnsynced && this.#inlineSyncs.allowed()) {
        this.#unsynced = false;
        this.#inlineSyncs.took(journal.syncNow());
        await this.#directorySync;
      } else await this.#syncJournal(journal);
      this.#lock?.confirm();
    } catch (error) {
      throw this.#fail(`could not write the journal ${journal.path}`, error);
    }
    this.#maybeCompact();
    await this.#backpressure();
  }

  /**
   * Makes the journal durable: its data, and its name if it is new. Whichever sync comes first
   * after a journal was created starts the directory fsync; every sync waits for the latest one,
   * so none resolves while the name of the file it synced could still vanish in a power cut.
   */
  async #syncJournal(journal = this.#journal): Promise<void> {
    this.#unsynced = false;
    if (this.#directoryUnsynced) {
      this.#directoryUnsynced = false;
      const directorySync = fsyncDirectory(this.path).catch((error: unknown) => {
        this.#directoryUnsynced = true;
        throw error;
      });
      directorySync.catch(() => {});
      this.#directorySync = directorySync;
    }
    const directorySync = this.#directorySync;
    await journal?.sync();
    await directorySync;
  }

  #maybeCompact(now = Date.now()): void {
    const journal = this.#journal;
    // Only the lock holder compacts: a `lock: false` reader sealing the journal would cut off
    // the writer, whose later records would go to a deleted file.
    if (this.#compacting || !journal || !this.#options.lock || journal.bytes === 0) return;
    const reason = journal.bytes >= this.#compactAt() ? 'journal outgrew the snapshot' : this.#snapshotStale(now) ? 'snapshot refresh' : undefined;
    if (!reason) return;
    this.#compacting = true;
    void this.#compact(reason).catch((error: unknown) => this.#warn('compaction failed; the journal is kept and will be retried', error));
  }

  /** Whether the snapshot was last refreshed `snapshotIntervalMs` ago or more. */
  #snapshotStale(now: number): boolean {
    const every = this.#options.snapshotIntervalMs;
    return every > 0 && now - this.#snapshotAt >= every;
  }

  /**
   * Seals the journal, writes `document` (default: the current state) as the new snapshot and
   * deletes the sealed journals it covers. Sealing is synchronous, so every record up to the
   * captured sequence is in the snapshot and every later one lands in the new journal.
   */
  #compact(reason: string, document?: CheckpointDocument): Promise<void> {
    const run = async (): Promise<void> => {
      try {
        if (this.#lockLost || this.#failed || !this.#journal) return;
        // `full` leaves its waiting records to the next group commit, which writes and fsyncs
        // them in the new journal; written into the sealed one they would be acknowledged
        // without an fsync. (The snapshot holds them too; replay skips the duplicates.)
        if (this.#durability !== 'full') this.#writePending();
        const old = this.#journal;
        // Each step that replaces or deletes a file a successor would read is preceded by a
        // synchronous check that the lock is still ours (a holder frozen mid-compaction and
        // taken over must not seal, replace or delete its successor's files).
        this.#lock?.refresh();
        const sealed = sealedJournalName(this.#journalPath, ++this.#sealed);
        renameSync(this.#journalPath, sealed);
        this.#journal = new JournalFile(this.#journalPath, 0);
        this.#directoryUnsynced = true;
        void old.closeWhenIdle();
        crashPoint('compaction:after-seal');
        const sequence = this.#sequence;
        this.#snapshotAt = Date.now();
        const content = document ?? this.#session!.snapshot();
        this.#snapshotBytes = await writeSnapshot(this.path, this.#format, content, sequence, this.#backupsToRotate(), () => this.#lock?.refresh());
        this.#snapshotHoldsProgress = holdsProgress(content);
        crashPoint('compaction:before-sealed-delete');
        this.#removeOwnFiles(sealedJournals(this.#journalPath));
        this.#session?.emit('flush', { location: this.location, reason });
      } finally {
        this.#compacting = false;
      }
    };
    this.#snapshots = this.#snapshots.then(run, run);
    return this.#snapshots;
  }

  /** How many backups a new snapshot rotates: none when the one it replaces holds no progress. */
  #backupsToRotate(): number {
    return this.#snapshotHoldsProgress ? this.#options.backups : 0;
  }

  async save(document: CheckpointDocument): Promise<void> {
    if (this.#fresh) return this.#saveFirst(document);
    this.#writable();
    this.#compacting = true;
    await this.#compact('save', document).catch((error: unknown) => {
      throw this.#storeError('could not save the checkpoint', error);
    });
  }

  /** A new checkpoint's first snapshot, then its journal. */
  async #saveFirst(document: CheckpointDocument): Promise<void> {
    this.#assertWritesAllowed();
    try {
      this.#snapshotBytes = await writeSnapshot(this.path, this.#format, document, this.#sequence, this.#backupsToRotate(), () => this.#lock?.refresh());
      this.#snapshotHoldsProgress = holdsProgress(document);
      await this.#startJournal(undefined);
    } catch (error) {
      throw this.#storeError('could not save the checkpoint', error);
    }
    this.#fresh = false;
    this.#session?.emit('flush', { location: this.location, reason: 'save' });
  }

  async flush(): Promise<void> {
    this.#writable();
    try {
      this.#writePending();
      await this.#commits.idle();
      await this.#syncJournal();
    } catch (error) {
      throw this.#storeError(`could not flush the journal ${this.#journalPath}`, error);
    }
    this.#session?.emit('flush', { location: this.location, reason: 'flush' });
  }

  async close(): Promise<void> {
    if (!this.#journal) return this.#shutDown();
    clearInterval(this.#timer);
    clearInterval(this.#refreshTimer);
    crashPoint('close');
    try {
      // After a failed write the memory state may hold changes that are not on disk: saving it
      // would make a refused mark count as done. The journal already holds what was acknowledged.
      if (!this.#lockLost && !this.#failed) await this.#settle('close');
    } catch (error) {
      throw this.#storeError('could not close the checkpoint', error);
    } finally {
      await this.#shutDown();
    }
    // Closed, lock released, and still the caller must hear that not everything was saved.
    if (this.#failed) throw this.#failed;
  }

  /** Writes what is pending and, when the journal holds anything, folds it into a new snapshot. */
  async #settle(reason: string): Promise<void> {
    this.#writePending();
    await this.#commits.idle();
    await this.#snapshots;
    if (this.#journal!.bytes > 0 && this.#options.lock) {
      this.#compacting = true;
      await this.#compact(reason);
    } else {
      await this.#syncJournal();
    }
  }

  /**
   * Deletes the checkpoint in an order that a kill at any moment leaves either the whole
   * checkpoint or none of it: first everything is folded into the snapshot, then the journal
   * and the backups go, and the snapshot last. (A snapshot missing while backups remain is
   * read as damage and recovered from them, so backups must go first.)
   */
  async remove(): Promise<void> {
    // Nothing of a new checkpoint is on disk before its first save.
    if (this.#fresh) return this.#shutDown();
    this.#writable();
    try {
      await this.#settle('complete');
      crashPoint('remove:after-compaction');
      clearInterval(this.#timer);
      clearInterval(this.#refreshTimer);
      const journal = this.#journal;
      this.#journal = undefined;
      await journal?.closeWhenIdle();
      this.#removeOwnFiles([this.#journalPath, ...sealedJournals(this.#journalPath)]);
      crashPoint('remove:after-journal');
      // Every backup of ours, also those a run with a larger `backups` left: one left behind
      // would be read as the damaged remains of this checkpoint by the next run.
      this.#removeOwnFiles(ownBackups(this.path, this.#options.backups));
      crashPoint('remove:after-backups');
      this.#removeOwnFiles([this.path]);
      await fsyncDirectory(this.path);
      crashPoint('remove:after-snapshot');
    } catch (error) {
      throw this.#storeError('could not remove the checkpoint', error);
    } finally {
      await this.#shutDown();
    }
  }

  /** Deletes files of this checkpoint, each only after confirming the lock is still ours. */
  #removeOwnFiles(files: readonly string[]): void {
    for (const file of files) {
      this.#lock?.refresh();
      try {
        unlinkSync(file);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
  }

  /** Every failure a caller sees is a CheckpointError naming the checkpoint, with the cause. */
  #storeError(what: string, error: unknown): CheckpointError {
    if (error instanceof CheckpointError) return error;
    return new CheckpointStoreError(this.location, `${what}: ${(error as Error).message}`, { cause: error });
  }

  async #shutDown(): Promise<void> {
    clearInterval(this.#timer);
    clearInterval(this.#refreshTimer);
    await this.#snapshots.catch(() => {});
    const journal = this.#journal;
    this.#journal = undefined;
    await journal?.closeWhenIdle();
    await this.#lock?.release();
    this.#lock = undefined;
  }

  #warn(what: string, error: unknown): void {
    this.#session?.emit('warning', { message: `${this.location}: ${what}: ${(error as Error).message}`, cause: error });
  }
}

/**
 * A checkpoint in a JSON file (`pipeline_checkpoint.json`) with its journal beside it.
 * @example new JsonFileStore('input_data/pipeline_checkpoint.json', { durability: 'full' })
 */
export class JsonFileStore extends FileStore {
  constructor(path: string, options?: FileStoreOptions) {
    super(path, jsonFormat, options);
  }
}

/**
 * A checkpoint in a YAML file (`pipeline_state.yaml`), parsed safely: core schema only, no
 * custom tags, at most 100 aliases.
 * @example new YamlFileStore('my-dataset/pipeline_state.yaml')
 */
export class YamlFileStore extends FileStore {
  constructor(path: string, options?: FileStoreOptions) {
    super(path, yamlFormat, options);
  }
}

/** The file store for `path` by its extension (`.json`, `.yaml`, `.yml`); `undefined` for any other path. */
export function fileStoreFor(path: string, options?: FileStoreOptions): FileStore | undefined {
  const format = formatForPath(path);
  return format && new FileStore(path, format, options);
}
