import { renameSync } from 'node:fs';
import type { CheckpointError} from '../../core/errors.js';
import { CheckpointClosedError, CheckpointLockLostError, CheckpointStoreError, writeFailedError } from '../../core/errors.js';
import { assertNever } from '../../core/assert-never.js';
import { WriteBatcher, type Durability } from '../write-batcher.js';
import { crashPoint } from './crash-point.js';
import type { FileLock } from './file-lock.js';
import type { ResolvedFileStoreOptions } from './file-store-options.js';
import { fsyncDirectory } from './fs-durable.js';
import { InlineSyncBudget, JournalFile } from './journal.js';
import type { WriteFence } from './lock-owner.js';

const RESOLVED = Promise.resolve();

/** The store's upkeep after records were written (see Compaction). */
export interface JournalUpkeep {
  /** Starts a compaction if one is due. */
  maybeCompact(now: number): void;
  /** What a mark waits for while a compaction runs. */
  backpressure(): Promise<void>;
  /** Resolves once the snapshot that takes in a sealed journal is written. */
  saved(): Promise<void>;
}

/**
 * Appends a file store's journal records as its durability promises ({@link Durability}):
 * `normal` writes each record at once and fsyncs every `fsyncIntervalMs`; `batched` and `full`
 * go through the shared {@link WriteBatcher} — `batched` writes a batch every `batchSize` records
 * or `batchIntervalMs`, `full` writes and fsyncs each group commit before it resolves. The first
 * failed write latches: nothing after it is acknowledged.
 */
export class JournalWriter {
  readonly #path: string;
  readonly #journalPath: string;
  readonly #location: string;
  readonly #durability: Durability;
  readonly #fsyncIntervalMs: number;
  readonly #fence: WriteFence;
  readonly #warn: (what: string, error: unknown) => void;
  readonly #batcher: WriteBatcher<string>;
  #lock: FileLock | undefined;
  #upkeep: JournalUpkeep | undefined;
  #journal: JournalFile | undefined;
  #lastSyncAt = 0;
  #unsynced = false;
  #directoryUnsynced = false;
  /** The latest fsync of the directory: a sync that finds one in flight waits for it too. */
  #directorySync: Promise<void> = RESOLVED;
  readonly #inlineSyncs = new InlineSyncBudget();
  #timer: NodeJS.Timeout | undefined;

  constructor(path: string, location: string, options: ResolvedFileStoreOptions, fence: WriteFence, warn: (what: string, error: unknown) => void) {
    this.#path = path;
    this.#journalPath = `${path}.journal`;
    this.#location = location;
    this.#durability = options.durability;
    this.#fsyncIntervalMs = options.fsyncIntervalMs;
    this.#fence = fence;
    this.#warn = warn;
    // The store latches its own failures (#fail): a lost lock is not a failed write.
    this.#batcher = new WriteBatcher<string>({
      commit: options.durability === 'full' ? (lines) => this.#commitGroup(lines) : (lines) => this.#writeBatch(lines),
      latch: false,
      ...(options.durability === 'batched' ? { batch: { size: options.batchSize, intervalMs: options.batchIntervalMs }, synchronous: true } : {}),
      onUnwatchedFailure: (error) => warn('a background write failed; further marks are refused', error),
    });
  }

  /** The journal being appended to; `undefined` before {@link start} and after {@link close}. */
  get journal(): JournalFile | undefined {
    return this.#journal;
  }

  /** The first write that failed: nothing after it is acknowledged. */
  get failure(): CheckpointError | undefined {
    return this.#batcher.failure as CheckpointError | undefined;
  }

  /**
   * Opens the journal (of `bytes` bytes now) for appending and starts the periodic fsync. Writes
   * are acknowledged only while `lock` (if any) is confirmed ours; `upkeep` runs after them.
   */
  start(bytes: number, lock: FileLock | undefined, upkeep: JournalUpkeep): void {
    this.#lock = lock;
    this.#upkeep = upkeep;
    try {
      this.#journal = new JournalFile(this.#journalPath, bytes);
    } catch (error) {
      throw new CheckpointStoreError(this.#location, `cannot open the journal ${this.#journalPath} for appending: ${(error as Error).message}`, { cause: error });
    }
    this.#directoryUnsynced = true;
    if (this.#durability !== 'normal' || this.#fsyncIntervalMs <= 0) return;
    this.#timer = setInterval(() => {
      if (this.#unsynced) this.#startPeriodicSync(Date.now());
    }, this.#fsyncIntervalMs);
    this.#timer.unref();
  }

  append(line: string): Promise<void> {
    const journal = this.#writable();
    switch (this.#durability) {
      case 'normal': {
        this.#writeSync(journal, line);
        // Acknowledged only while the lock is provably ours (checked after the write, so the
        // write came first), and with upkeep done here when a busy loop starves the timers.
        const now = Date.now();
        this.#lock?.confirm(now);
        if (this.#fsyncIntervalMs > 0 && this.#unsynced && now - this.#lastSyncAt >= this.#fsyncIntervalMs) this.#startPeriodicSync(now);
        this.#upkeep!.maybeCompact(now);
        return this.#upkeep!.backpressure();
      }
      case 'batched':
        // A batch this mark fills is written here, and a failed write thrown: the mark is refused
        // before the manager applies it.
        void this.#batcher.add(line);
        this.#lock?.confirm();
        return this.#upkeep!.backpressure();
      case 'full':
        return this.#batcher.add(line);
      default:
        return assertNever(this.#durability);
    }
  }

  #writable(): JournalFile {
    this.#fence.assertWritable(this.failure);
    if (!this.#journal) throw new CheckpointClosedError(this.#location);
    return this.#journal;
  }

  #writeSync(journal: JournalFile, text: string): void {
    try {
      journal.writeSync(text);
      crashPoint('journal:after-write');
    } catch (error) {
      throw this.fail(`could not append to the journal ${journal.path}`, error);
    }
    this.#unsynced = true;
  }

  /**
   * Latches a failed write: the change is in memory but not on disk, so from now on nothing
   * is acknowledged and close() does not save the memory state — reopening resumes from
   * exactly what was acknowledged.
   */
  fail(what: string, error: unknown): CheckpointError {
    if (error instanceof CheckpointLockLostError) return error;
    this.#batcher.fail(writeFailedError(this.#location, what, error, 'free the disk (or fix the cause)'));
    return this.failure!;
  }

  /** A `batched` batch: written only while the lock is ours (a taken-over holder must not write into a file its successor reads). */
  #writeBatch(lines: string[]): void {
    const journal = this.#writable();
    this.#lock?.confirm();
    this.#writeSync(journal, lines.join(''));
    this.#upkeep!.maybeCompact(Date.now());
  }

  /** One group commit (`full`): every record appended since the last one, one write, one fsync. */
  async #commitGroup(lines: string[]): Promise<void> {
    const journal = this.#writable();
    try {
      // Written synchronously: a group commit's records are a few kilobytes that reach the page
      // cache in microseconds, and a commit then needs one trip to the thread pool (the
      // fdatasync) instead of two — on a busy machine every trip waits to be scheduled.
      journal.writeSync(lines.join(''));
      crashPoint('journal:after-write');
      // A compaction may have sealed (and closed) this journal while the write was in flight:
      // an fsync of it would be skipped, so these records are durable once its snapshot is.
      if (journal !== this.#journal) await this.#upkeep!.saved();
      // A lone record has no one to share its fsync with: on a fast disk, sync it here rather
      // than pay a round trip to the thread pool. Groups sync off the event loop, where more
      // marks can gather. The journal's name must be durable too: not while a new journal
      // still needs its directory fsynced, and not before one already started has finished.
      else if (lines.length === 1 && !this.#directoryUnsynced && this.#inlineSyncs.allowed()) {
        this.#unsynced = false;
        this.#inlineSyncs.took(journal.syncNow());
        await this.#directorySync;
      } else await this.sync(journal);
      this.#lock?.confirm();
    } catch (error) {
      throw this.fail(`could not write the journal ${journal.path}`, error);
    }
    this.#upkeep!.maybeCompact(Date.now());
    await this.#upkeep!.backpressure();
  }

  /** An fsync for `normal` durability, started from a mark or the timer, whichever comes first. */
  #startPeriodicSync(now: number): void {
    this.#lastSyncAt = now;
    void this.sync().catch((error: unknown) => this.#warn('periodic fsync failed', error));
  }

  /**
   * Makes the journal durable: its data, and its name if it is new. Whichever sync comes first
   * after a journal was created starts the directory fsync; every sync waits for the latest one,
   * so none resolves while the name of the file it synced could still vanish in a power cut.
   */
  async sync(journal = this.#journal): Promise<void> {
    this.#unsynced = false;
    if (this.#directoryUnsynced) {
      this.#directoryUnsynced = false;
      const directorySync = fsyncDirectory(this.#path).catch((error: unknown) => {
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

  /** Writes the waiting records (and waits for a group commit in flight). */
  async writePending(): Promise<void> {
    await this.#batcher.flush();
  }

  /** Writes the waiting records and makes the journal durable. */
  async flush(): Promise<void> {
    await this.writePending();
    await this.sync();
  }

  /**
   * Renames the journal to `sealed` and starts a new, empty one, synchronously: every record
   * written before is in the sealed one, every later one in the new one. Records still waiting
   * for a batch or a group commit go to the new journal (the snapshot of the sealed one holds
   * them too; replay skips what a snapshot holds).
   */
  seal(sealed: string): void {
    const old = this.#journal!;
    renameSync(this.#journalPath, sealed);
    this.#journal = new JournalFile(this.#journalPath, 0);
    this.#directoryUnsynced = true;
    void old.closeWhenIdle();
  }

  /** Stops the timers and closes the journal once its writes and syncs have finished. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    // A healthy close wrote every batch first; after a failure the rest cannot be written.
    if (this.#durability === 'batched') await this.#batcher.discard();
    const journal = this.#journal;
    this.#journal = undefined;
    await journal?.closeWhenIdle();
  }

  /** Forgets the records not written yet: the checkpoint is being deleted. */
  discard(): Promise<void> {
    return this.#batcher.discard();
  }
}
