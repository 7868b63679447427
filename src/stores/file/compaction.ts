import type { CheckpointDocument } from '../../core/model.js';
import type { StoreSession } from '../store.js';
import { crashPoint } from './crash-point.js';
import type { FileLock } from './file-lock.js';
import type { ResolvedFileStoreOptions } from './file-store-options.js';
import { removeFiles } from './fs-durable.js';
import { sealedJournalName, sealedJournals } from './journal.js';
import type { JournalWriter } from './journal-writer.js';
import { holdsProgress, writeSnapshot } from './snapshot-file.js';
import type { SnapshotFormat } from './snapshot-formats.js';

const RESOLVED = Promise.resolve();
/** While a compaction runs, one mark in this many lets the event loop turn (see backpressure)… */
const MARKS_PER_YIELD = 256;
/** …and one in this many once the new journal has outgrown the snapshot again… */
const MARKS_PER_YIELD_BEHIND = 16;
/** …and at least one in this many milliseconds, however long each mark's own work takes. */
const MS_PER_YIELD = 10;

/** What a compaction needs of its store. */
export interface CompactionContext {
  path: string;
  location: string;
  format: SnapshotFormat;
  options: ResolvedFileStoreOptions;
  writer: JournalWriter;
  lock(): FileLock | undefined;
  /** Whether the store may not write any more (a lost lock): then it does not compact either. */
  stopped(): boolean;
  /** The sequence number of the last record appended. */
  sequence(): number;
  session(): StoreSession | undefined;
  warn(what: string, error: unknown): void;
}

/**
 * Folds a file store's journal into a new snapshot: when the journal outgrows the snapshot, when
 * the snapshot is `snapshotIntervalMs` old, on save and on close. The journal is sealed, the
 * snapshot written atomically (the previous one becoming a backup) and the sealed journal deleted.
 */
export class Compaction {
  readonly #context: CompactionContext;
  #compacting = false;
  #marksSinceYield = 0;
  #lastYieldAt = 0;
  #sealed = 0;
  #snapshotBytes = 0;
  /** Whether the snapshot on disk holds progress: only then is it kept as a backup when replaced. */
  #snapshotHoldsProgress = false;
  /** When the snapshot last took in the journal (or the journal was last empty). */
  #snapshotAt = 0;
  #snapshots: Promise<void> = RESOLVED;
  #refreshTimer: NodeJS.Timeout | undefined;

  constructor(context: CompactionContext) {
    this.#context = context;
  }

  /** The snapshot on disk at open: its size and document. */
  found(bytes: number, document: CheckpointDocument | undefined): void {
    this.#snapshotBytes = bytes;
    this.#snapshotHoldsProgress = document !== undefined && holdsProgress(document);
  }

  /** Starts the clock of `snapshotIntervalMs`, and its timer for a run that pauses between bursts of marks. */
  start(): void {
    this.#snapshotAt = Date.now();
    const every = this.#context.options.snapshotIntervalMs;
    if (every > 0 && this.#context.options.lock) {
      this.#refreshTimer = setInterval(() => this.maybeCompact(), every);
      this.#refreshTimer.unref();
    }
  }

  stop(): void {
    clearInterval(this.#refreshTimer);
  }

  /** Resolves once the compactions started so far have finished; rejects if the last one failed. */
  saved(): Promise<void> {
    return this.#snapshots;
  }

  /**
   * Marks that resolve at once never let the event loop turn, and a compaction that yields
   * between chunks would never finish: while one runs, marks let the loop turn now and then, and
   * once the new journal is twice the snapshot's size, the next mark waits for the compaction.
   * The journals stay within about three times the snapshot.
   */
  backpressure(): Promise<void> {
    // The hot path of every mark: nothing to do unless a compaction runs.
    if (!this.#compacting) return RESOLVED;
    const journal = this.#context.writer.journal;
    if (!journal) return RESOLVED;
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
    // (A loop that spends milliseconds of its own per item between marks would otherwise turn the
    // event loop once a second or less, and a compaction needs a few dozen turns.)
    if (++this.#marksSinceYield < (journal.bytes >= compactAt ? MARKS_PER_YIELD_BEHIND : MARKS_PER_YIELD) && Date.now() - this.#lastYieldAt < MS_PER_YIELD) {
      return RESOLVED;
    }
    this.#marksSinceYield = 0;
    this.#lastYieldAt = Date.now();
    return new Promise((resolve) => setImmediate(resolve));
  }

  #compactAt(): number {
    return Math.max(this.#snapshotBytes, this.#context.options.minCompactBytes);
  }

  maybeCompact(now = Date.now()): void {
    const journal = this.#context.writer.journal;
    // Only the lock holder compacts: a `lock: false` reader sealing the journal would cut off
    // the writer, whose later records would go to a deleted file.
    if (this.#compacting || !journal || !this.#context.options.lock || journal.bytes === 0) return;
    const reason = journal.bytes >= this.#compactAt() ? 'journal outgrew the snapshot' : this.#snapshotStale(now) ? 'snapshot refresh' : undefined;
    if (!reason) return;
    void this.compact(reason).catch((error: unknown) => this.#context.warn('compaction failed; the journal is kept and will be retried', error));
  }

  /** Whether the snapshot was last refreshed `snapshotIntervalMs` ago or more. */
  #snapshotStale(now: number): boolean {
    const every = this.#context.options.snapshotIntervalMs;
    return every > 0 && now - this.#snapshotAt >= every;
  }

  /**
   * Seals the journal, writes `document` (default: the current state) as the new snapshot and
   * deletes the sealed journals it covers. Sealing is synchronous, so every record up to the
   * captured sequence is in the snapshot and every later one lands in the new journal.
   */
  compact(reason: string, document?: CheckpointDocument): Promise<void> {
    this.#compacting = true;
    const { writer, path } = this.#context;
    const run = async (): Promise<void> => {
      try {
        if (this.#context.stopped() || writer.failure || !writer.journal) return;
        // Each step that replaces or deletes a file a successor would read is preceded by a
        // synchronous check that the lock is still ours (a holder frozen mid-compaction and
        // taken over must not seal, replace or delete its successor's files).
        this.#context.lock()?.refresh();
        writer.seal(sealedJournalName(`${path}.journal`, ++this.#sealed));
        crashPoint('compaction:after-seal');
        const sequence = this.#context.sequence();
        this.#snapshotAt = Date.now();
        await this.#writeSnapshot(document ?? this.#context.session()!.snapshot(), sequence);
        crashPoint('compaction:before-sealed-delete');
        removeFiles(sealedJournals(`${path}.journal`), () => this.#context.lock()?.refresh());
        this.#context.session()?.emit('flush', { location: this.#context.location, reason });
      } finally {
        this.#compacting = false;
      }
    };
    this.#snapshots = this.#snapshots.then(run, run);
    return this.#snapshots;
  }

  /** A new checkpoint's first snapshot, written before it has a journal. */
  async writeFirst(document: CheckpointDocument, sequence: number): Promise<void> {
    await this.#writeSnapshot(document, sequence);
  }

  async #writeSnapshot(document: CheckpointDocument, sequence: number): Promise<void> {
    const { path, format, options } = this.#context;
    // No backup of a snapshot without progress: it would protect nothing and push one that does out.
    const backups = this.#snapshotHoldsProgress ? options.backups : 0;
    this.#snapshotBytes = await writeSnapshot(path, format, document, sequence, backups, () => this.#context.lock()?.refresh());
    this.#snapshotHoldsProgress = holdsProgress(document);
  }
}
