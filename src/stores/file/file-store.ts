import { mkdirSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { CheckpointClosedError, CheckpointError, CheckpointStoreError } from '../../core/errors.js';
import type { CheckpointChange, CheckpointDocument } from '../../core/model.js';
import { checkValue, rules } from '../../core/validate-options.js';
import type { CheckpointStore, LoadedCheckpoint, StoreSession } from '../store.js';
import { Compaction } from './compaction.js';
import { crashPoint } from './crash-point.js';
import { FileLock } from './file-lock.js';
import { resolvedOptions, withEnvironmentOptions, type FileStoreOptions, type ResolvedFileStoreOptions } from './file-store-options.js';
import { fsyncDirectory, removeFiles, removeIfExists, removeStaleTemporaryFiles, replaceFile } from './fs-durable.js';
import { JournalWriter } from './journal-writer.js';
import { encodeRecord, sealedJournals, type JournalRecords } from './journal.js';
import { WriteFence } from './lock-owner.js';
import { keepTornTails, openFiles } from './open-files.js';
import { ownBackups } from './snapshot-file.js';
import { formatForPath, jsonFormat, yamlFormat, type SnapshotFormat } from './snapshot-formats.js';

/**
 * A checkpoint kept as a human-readable snapshot plus an append-only journal beside it
 * (`<file>.journal`). A mark appends one checksummed line — O(1), not a rewrite of the file
 * ({@link JournalWriter}). When the journal outgrows the snapshot (and on close) it is folded
 * into a new snapshot ({@link Compaction}). This class is the lifecycle: open, save, flush,
 * close, remove.
 */
export class FileStore implements CheckpointStore {
  readonly location: string;
  readonly path: string;
  readonly #journalPath: string;
  readonly #format: SnapshotFormat;
  readonly #options: ResolvedFileStoreOptions;
  readonly #fence: WriteFence;
  readonly #writer: JournalWriter;
  readonly #compaction: Compaction;
  #session: StoreSession | undefined;
  #lock: FileLock | undefined;
  /** A new checkpoint whose first snapshot is not written yet (it has no journal until then). */
  #fresh = false;
  #sequence = 0;

  constructor(path: string, format: SnapshotFormat, options: FileStoreOptions = {}) {
    checkValue('path', path, rules.nonEmptyString);
    // The environment is read once, here: a store keeps what it was made with.
    this.#options = resolvedOptions(withEnvironmentOptions(options));
    this.path = resolve(path);
    this.location = path;
    this.#journalPath = `${this.path}.journal`;
    this.#format = format;
    this.#fence = new WriteFence(this.path, this.location, this.#options.lock);
    this.#writer = new JournalWriter(this.path, this.location, this.#options, this.#fence, (what, error) => this.#warn(what, error));
    this.#compaction = new Compaction({
      path: this.path,
      location: this.location,
      format,
      options: this.#options,
      writer: this.#writer,
      lock: () => this.#lock,
      stopped: () => this.#fence.lockLost !== undefined,
      sequence: () => this.#sequence,
      session: () => this.#session,
      warn: (what, error) => this.#warn(what, error),
    });
  }

  async open(session: StoreSession): Promise<LoadedCheckpoint | undefined> {
    this.#session = session;
    try {
      mkdirSync(dirname(this.path), { recursive: true });
    } catch (error) {
      throw new CheckpointStoreError(this.location, `cannot create its directory ${dirname(this.path)}: ${(error as Error).message} — point \`path\` at a writable directory`, { cause: error });
    }
    // Without the lock, beside a process that holds it, this store only reads (see WriteFence).
    this.#fence.lookForHolder();
    if (this.#options.lock) {
      this.#lock = await FileLock.acquire(this.path, (error) => {
        this.#fence.lose(error);
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
    this.#compaction.found(loaded.snapshotBytes, loaded.document);
    // Without the lock another process may be writing: rewriting its journal would lose records.
    // So without the lock a journal that ends in a torn write is only read: a record appended
    // after it would be damaged with it. A holder taken over on another host may still be running
    // and append to the journal it has open: give the journal a new file, so that nothing it
    // writes late is ever read.
    const rewrite = this.#options.lock && (!loaded.tidy || this.#lock?.tookOverLiveHolder === true);
    if (!this.#options.lock && !loaded.appendable) this.#fence.refuseWrites('its journal ends in a torn write, which only a store holding the lock may repair (a record appended after it would be damaged too) — open it once with the lock (the default) to write');
    await keepTornTails(loaded, this.location, rewrite, session);
    // A new checkpoint gets its snapshot before its journal (in save): a journal without a
    // snapshot beside it then always means damage, never "not written yet".
    if (!loaded.document) {
      this.#fresh = true;
      return undefined;
    }
    await this.#startJournal(rewrite ? loaded.records : undefined);
    return { document: loaded.document, changes: loaded.records.changes() };
  }

  /** Opens the journal for appending; first rewrites it to hold just `records`, if given. */
  async #startJournal(records: JournalRecords | undefined): Promise<void> {
    if (records) {
      // Atomically, through a staging file of the library's own name.
      await replaceFile(this.#journalPath, Array.from(records, (record) => encodeRecord(record.sequence, record.change)).join(''));
      crashPoint('open:after-journal-rewrite');
      for (const sealed of sealedJournals(this.#journalPath)) await removeIfExists(sealed);
      await fsyncDirectory(this.path);
    }
    const existing = await stat(this.#journalPath).then((info) => info.size, () => 0);
    this.#writer.start(existing, this.#lock, this.#compaction);
    this.#compaction.start();
  }

  append(change: CheckpointChange): Promise<void> {
    return this.#writer.append(encodeRecord(++this.#sequence, change));
  }

  async save(document: CheckpointDocument): Promise<void> {
    if (this.#fresh) return this.#saveFirst(document);
    this.#assertOpenForWrites();
    await this.#compaction.compact('save', document).catch((error: unknown) => {
      throw this.#storeError('could not save the checkpoint', error);
    });
  }

  /** A new checkpoint's first snapshot, then its journal. */
  async #saveFirst(document: CheckpointDocument): Promise<void> {
    this.#fence.assertWritable(this.#writer.failure);
    try {
      await this.#compaction.writeFirst(document, this.#sequence);
      await this.#startJournal(undefined);
    } catch (error) {
      throw this.#storeError('could not save the checkpoint', error);
    }
    this.#fresh = false;
    this.#session?.emit('flush', { location: this.location, reason: 'save' });
  }

  #assertOpenForWrites(): void {
    this.#fence.assertWritable(this.#writer.failure);
    if (!this.#writer.journal) throw new CheckpointClosedError(this.location);
  }

  async flush(): Promise<void> {
    this.#assertOpenForWrites();
    try {
      await this.#writer.flush();
    } catch (error) {
      throw this.#storeError(`could not flush the journal ${this.#journalPath}`, error);
    }
    this.#session?.emit('flush', { location: this.location, reason: 'flush' });
  }

  async close(): Promise<void> {
    if (!this.#writer.journal) return this.#shutDown();
    this.#compaction.stop();
    crashPoint('close');
    try {
      // After a failed write the memory state may hold changes that are not on disk: saving it
      // would make a refused mark count as done. The journal already holds what was acknowledged.
      if (!this.#fence.lockLost && !this.#writer.failure) await this.#settle('close');
    } catch (error) {
      throw this.#storeError('could not close the checkpoint', error);
    } finally {
      await this.#shutDown();
    }
    // Closed, lock released, and still the caller must hear that not everything was saved.
    if (this.#writer.failure) throw this.#writer.failure;
  }

  /** Writes what is pending and, when the journal holds anything, folds it into a new snapshot. */
  async #settle(reason: string): Promise<void> {
    await this.#writer.writePending();
    await this.#compaction.saved();
    if (this.#writer.journal!.bytes > 0 && this.#options.lock) {
      await this.#compaction.compact(reason);
    } else {
      await this.#writer.sync();
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
    this.#assertOpenForWrites();
    const refreshLock = (): void => this.#lock?.refresh();
    try {
      await this.#settle('complete');
      crashPoint('remove:after-compaction');
      this.#compaction.stop();
      await this.#writer.close();
      removeFiles([this.#journalPath, ...sealedJournals(this.#journalPath)], refreshLock);
      crashPoint('remove:after-journal');
      // Every backup of ours, also those a run with a larger `backups` left: one left behind
      // would be read as the damaged remains of this checkpoint by the next run.
      removeFiles(ownBackups(this.path, this.#options.backups), refreshLock);
      crashPoint('remove:after-backups');
      removeFiles([this.path], refreshLock);
      await fsyncDirectory(this.path);
      crashPoint('remove:after-snapshot');
    } catch (error) {
      throw this.#storeError('could not remove the checkpoint', error);
    } finally {
      await this.#shutDown();
    }
  }

  /** Every failure a caller sees is a CheckpointError naming the checkpoint, with the cause. */
  #storeError(what: string, error: unknown): CheckpointError {
    if (error instanceof CheckpointError) return error;
    return new CheckpointStoreError(this.location, `${what}: ${(error as Error).message}`, { cause: error });
  }

  async #shutDown(): Promise<void> {
    this.#compaction.stop();
    await this.#compaction.saved().catch(() => {});
    await this.#writer.close();
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
