import { mkdirSync, renameSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { CheckpointClosedError, CheckpointLockLostError, CheckpointStoreError } from '../../core/errors.js';
import type { CheckpointChange, CheckpointDocument } from '../../core/model.js';
import type { CheckpointStore, LoadedCheckpoint, StoreSession } from '../store.js';
import { backupPaths } from './backups.js';
import { FileLock } from './file-lock.js';
import { resolvedOptions, type Durability, type FileStoreOptions, type ResolvedFileStoreOptions } from './file-store-options.js';
import { fsyncDirectory, removeIfExists, removeStaleTemporaryFiles } from './fs-durable.js';
import { encodeRecord } from './journal-record.js';
import { InlineSyncBudget, JournalFile, sealedJournals, type JournalRecord } from './journal.js';
import { loadFiles } from './load-files.js';
import type { SnapshotFormat } from './snapshot-format.js';
import { writeSnapshot } from './write-snapshot.js';
import { GroupCommit } from './group-commit.js';
import { crashPoint } from './crash-point.js';

const RESOLVED = Promise.resolve();

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
  #sequence = 0;
  #sealed = 0;
  #snapshotBytes = 0;
  #pending: string[] = [];
  #unsynced = false;
  #directoryUnsynced = false;
  /** The latest fsync of the directory: a sync that finds one in flight waits for it too. */
  #directorySync: Promise<void> = RESOLVED;
  readonly #inlineSyncs = new InlineSyncBudget();
  #timer: NodeJS.Timeout | undefined;
  #snapshots: Promise<void> = RESOLVED;
  #compacting = false;
  readonly #commits = new GroupCommit(() => this.#commitPending());

  constructor(path: string, format: SnapshotFormat, options: FileStoreOptions = {}) {
    this.path = resolve(path);
    this.location = path;
    this.#journalPath = `${this.path}.journal`;
    this.#format = format;
    this.#durability = options.durability ?? 'normal';
    this.#options = resolvedOptions(options);
  }

  get durability(): Durability {
    return this.#durability;
  }

  async open(session: StoreSession): Promise<LoadedCheckpoint | undefined> {
    this.#session = session;
    try {
      mkdirSync(dirname(this.path), { recursive: true });
    } catch (error) {
      throw new CheckpointStoreError(this.location, `cannot create its directory ${dirname(this.path)}: ${(error as Error).message} — point \`path\` at a writable directory`, { cause: error });
    }
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
      throw error;
    }
  }

  async #load(session: StoreSession): Promise<LoadedCheckpoint | undefined> {
    const loaded = await loadFiles({ path: this.path, location: this.location, journalPath: this.#journalPath, format: this.#format, backups: this.#options.backups, onCorrupt: this.#options.onCorrupt }, session);
    this.#sequence = loaded.sequence;
    this.#snapshotBytes = loaded.snapshotBytes;
    // Without the lock another process may be writing: rewriting its journal would lose records.
    await this.#startJournal(loaded.tidy || !this.#options.lock ? undefined : loaded.records);
    return loaded.document && { document: loaded.document, changes: loaded.records.map((record) => record.change) };
  }

  /** Opens the journal for appending; first rewrites it to hold just `records`, if given. */
  async #startJournal(records: JournalRecord[] | undefined): Promise<void> {
    if (records) {
      await writeFileAtomic(this.#journalPath, records.map((record) => encodeRecord(record.sequence, record.change)).join(''), { fsync: true });
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
    const every = this.#durability === 'normal' ? this.#options.fsyncIntervalMs : this.#durability === 'batched' ? this.#options.batchIntervalMs : 0;
    if (every <= 0) return;
    this.#timer = setInterval(() => {
      if (this.#durability === 'batched') this.#writePending();
      else if (this.#unsynced) void this.#syncJournal().catch((error: unknown) => this.#warn('periodic fsync failed', error));
    }, every);
    this.#timer.unref();
  }

  append(change: CheckpointChange): Promise<void> {
    const journal = this.#writable();
    const line = encodeRecord(++this.#sequence, change);
    switch (this.#durability) {
      case 'normal':
        this.#writeSync(journal, line);
        this.#maybeCompact();
        return RESOLVED;
      case 'batched':
        this.#pending.push(line);
        if (this.#pending.length >= this.#options.batchSize) this.#writePending();
        return RESOLVED;
      case 'full':
        this.#pending.push(line);
        return this.#commits.request();
    }
  }

  #writable(): JournalFile {
    if (this.#lockLost) throw new CheckpointLockLostError(this.location, { cause: this.#lockLost });
    if (!this.#journal) throw new CheckpointClosedError(this.location);
    return this.#journal;
  }

  #writeSync(journal: JournalFile, text: string): void {
    try {
      journal.writeSync(text);
      crashPoint('journal:after-write');
    } catch (error) {
      throw new CheckpointStoreError(this.location, `could not append to the journal: ${(error as Error).message}`, { cause: error });
    }
    this.#unsynced = true;
  }

  #writePending(): void {
    if (this.#pending.length === 0 || !this.#journal) return;
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
      await journal.write(text);
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
    } catch (error) {
      throw new CheckpointStoreError(this.location, `could not write the journal: ${(error as Error).message}`, { cause: error });
    }
    this.#maybeCompact();
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

  #maybeCompact(): void {
    const journal = this.#journal;
    // Only the lock holder compacts: a `lock: false` reader sealing the journal would cut off
    // the writer, whose later records would go to a deleted file.
    if (this.#compacting || !journal || !this.#options.lock || journal.bytes < Math.max(this.#snapshotBytes, this.#options.minCompactBytes)) return;
    this.#compacting = true;
    void this.#compact('journal outgrew the snapshot').catch((error: unknown) => this.#warn('compaction failed; the journal is kept and will be retried', error));
  }

  /**
   * Seals the journal, writes `document` (default: the current state) as the new snapshot and
   * deletes the sealed journals it covers. Sealing is synchronous, so every record up to the
   * captured sequence is in the snapshot and every later one lands in the new journal.
   */
  #compact(reason: string, document?: CheckpointDocument): Promise<void> {
    const run = async (): Promise<void> => {
      try {
        if (this.#lockLost || !this.#journal) return;
        // `full` leaves its waiting records to the next group commit, which writes and fsyncs
        // them in the new journal; written into the sealed one they would be acknowledged
        // without an fsync. (The snapshot holds them too; replay skips the duplicates.)
        if (this.#durability !== 'full') this.#writePending();
        const old = this.#journal;
        const sealed = `${this.#journalPath}.${++this.#sealed}`;
        renameSync(this.#journalPath, sealed);
        this.#journal = new JournalFile(this.#journalPath, 0);
        this.#directoryUnsynced = true;
        void old.closeWhenIdle();
        crashPoint('compaction:after-seal');
        const sequence = this.#sequence;
        const content = document ?? this.#session!.snapshot();
        this.#snapshotBytes = await writeSnapshot(this.path, this.#format, content, sequence, this.#options.backups);
        crashPoint('compaction:before-sealed-delete');
        for (const file of sealedJournals(this.#journalPath)) await removeIfExists(file);
        this.#session?.emit('flush', { location: this.location, reason });
      } finally {
        this.#compacting = false;
      }
    };
    this.#snapshots = this.#snapshots.then(run, run);
    return this.#snapshots;
  }

  async save(document: CheckpointDocument): Promise<void> {
    this.#writable();
    this.#compacting = true;
    await this.#compact('save', document);
  }

  async flush(): Promise<void> {
    this.#writable();
    this.#writePending();
    await this.#commits.idle();
    await this.#syncJournal();
    this.#session?.emit('flush', { location: this.location, reason: 'flush' });
  }

  async close(): Promise<void> {
    if (!this.#journal) return;
    clearInterval(this.#timer);
    crashPoint('close');
    try {
      if (!this.#lockLost) {
        this.#writePending();
        await this.#commits.idle();
        await this.#snapshots;
        if (this.#journal.bytes > 0 && this.#options.lock) {
          this.#compacting = true;
          await this.#compact('close');
        } else {
          await this.#syncJournal();
        }
      }
    } finally {
      await this.#shutDown();
    }
  }

  async remove(): Promise<void> {
    clearInterval(this.#timer);
    this.#pending = [];
    await this.#commits.idle().catch(() => {});
    await this.#snapshots.catch(() => {});
    const journal = this.#journal;
    this.#journal = undefined;
    await journal?.closeWhenIdle();
    const files = [this.path, this.#journalPath, ...sealedJournals(this.#journalPath), ...backupPaths(this.path, this.#options.backups)];
    for (const file of files) await removeIfExists(file);
    await fsyncDirectory(this.path);
    await this.#shutDown();
  }

  async #shutDown(): Promise<void> {
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
