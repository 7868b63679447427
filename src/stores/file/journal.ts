import { closeSync, fdatasync, fdatasyncSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { isAscii } from 'node:buffer';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { CheckpointCorruptError } from '../../core/errors.js';
import { filesBeside } from './fs-durable.js';
import { decodeLine, type JournalRecord } from './journal-record.js';

export { decodeRecord, encodeRecord, type JournalRecord } from './journal-record.js';

const fdatasyncAsync = promisify(fdatasync);

export interface ReadJournal {
  records: JournalRecord[];
  /** Bytes of valid records; anything after them is a torn tail. */
  validBytes: number;
  /** Damaged lines at the end (a write cut short by a crash), dropped. */
  tornLines: number;
}

/**
 * Reads a journal. Damaged lines at the end are a torn write and are dropped; a damaged line
 * followed by good ones means the file was damaged in place, which is an error.
 */
export async function readJournal(file: string): Promise<ReadJournal> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], validBytes: 0, tornLines: 0 };
    throw error;
  }
  const records: JournalRecord[] = [];
  let validBytes = 0;
  let tornLines = 0;
  let firstBad: number | undefined;
  let lineNumber = 0;
  let last = 0;
  for (let from = 0; from < bytes.length; ) {
    const to = endOfPiece(bytes, from);
    // A journal is nearly always ASCII, whose bytes are its characters: latin1 is the cheap way to decode it.
    const ascii = isAscii(bytes.subarray(from, to));
    const text = bytes.toString(ascii ? 'latin1' : 'utf8', from, to);
    let validChars = -1;
    for (let start = 0; start < text.length; ) {
      lineNumber++;
      const end = text.indexOf('\n', start);
      const complete = end !== -1;
      const record = complete ? decodeLine(text, start, end, file, lineNumber) : undefined;
      const next = complete ? end + 1 : text.length;
      if (record) {
        if (firstBad !== undefined) {
          throw new CheckpointCorruptError(`${file}`, [{ path: `line ${firstBad}`, message: 'damaged record (checksum mismatch) followed by valid records' }], {
            hint: 'the journal was modified or damaged in place; move it aside to resume from the snapshot alone, restore a backup, or start over with { onCorrupt: \'restart\' }',
          });
        }
        if (records.length > 0 && record.sequence <= last) {
          throw new CheckpointCorruptError(file, [{ path: `line ${lineNumber}`, message: `sequence ${record.sequence} does not follow ${last}` }]);
        }
        records.push(record);
        last = record.sequence;
        validChars = next;
      } else {
        firstBad ??= lineNumber;
        tornLines++;
      }
      start = next;
    }
    if (validChars !== -1) validBytes = from + (ascii ? validChars : Buffer.byteLength(text.slice(0, validChars)));
    from = to;
  }
  return { records, validBytes, tornLines };
}

/**
 * A journal is decoded a piece of whole lines at a time: V8 keeps a string of this size on its
 * heap, where it is read fastest; Node makes a bigger latin1 string outside it.
 */
const PIECE_BYTES = 64 * 1024;
const NEWLINE = 0x0a;

/** Where the piece of `bytes` from `from` ends: after the last newline within PIECE_BYTES (a longer line whole), or at the end. */
function endOfPiece(bytes: Buffer, from: number): number {
  if (bytes.length - from <= PIECE_BYTES) return bytes.length;
  const cut = bytes.lastIndexOf(NEWLINE, from + PIECE_BYTES - 1);
  if (cut >= from) return cut + 1;
  const lineEnd = bytes.indexOf(NEWLINE, from + PIECE_BYTES);
  return lineEnd === -1 ? bytes.length : lineEnd + 1;
}

const SEALED = '.sealed-';

/**
 * `<file>.journal.sealed-<n>`: the journal once a compaction has sealed it, until its snapshot is
 * written. Not `<file>.journal.<n>`, which is what write-file-atomic names its temporary files
 * (and what a person might call a copy): only names the library made are read or deleted.
 */
export const sealedJournalName = (journal: string, n: number): string => `${journal}${SEALED}${n}`;

/** Sealed journals beside `journal` ({@link sealedJournalName}), oldest first. */
export function sealedJournals(journal: string): string[] {
  const prefix = `${basename(journal)}${SEALED}`;
  return filesBeside(journal)
    .filter((name) => name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length)))
    .map((name) => ({ name, n: Number(name.slice(prefix.length)) }))
    .sort((a, b) => a.n - b.n)
    .map(({ name }) => join(dirname(journal), name));
}

/** An fdatasync on the event loop that takes longer than this holds every other task up too long. */
const SLOW_INLINE_SYNC_MS = 1;
/** How many lone records go to the thread pool after a slow inline sync, before one is tried again. */
const POOL_SYNCS_AFTER_SLOW = 64;

/**
 * Whether a lone `full` record is fdatasynced on the event loop. That saves the round trip to the
 * thread pool, which matters only when the disk syncs in a fraction of a millisecond. When a
 * sync on the event loop turns out slow (a loaded machine, a slower disk) it would stall timers,
 * I/O and a running compaction for that long, for a saving that is small next to the sync itself:
 * then the next lone records sync on the thread pool for a while before another is tried here.
 */
export class InlineSyncBudget {
  #poolSyncs = 0;

  allowed(): boolean {
    if (this.#poolSyncs === 0) return true;
    this.#poolSyncs--;
    return false;
  }

  took(ms: number): void {
    if (ms > SLOW_INLINE_SYNC_MS) this.#poolSyncs = POOL_SYNCS_AFTER_SLOW;
  }
}

/** The append-only file of one store. Writes are synchronous; `full` then fdatasyncs on the thread pool, or on the event loop for a lone record on a fast disk. */
export class JournalFile {
  readonly path: string;
  readonly #fd: number;
  #inFlight: Promise<unknown> = Promise.resolve();
  #closed = false;
  bytes: number;

  constructor(path: string, bytes: number) {
    this.path = path;
    this.#fd = openSync(path, 'a');
    this.bytes = bytes;
  }

  /**
   * Appends `text`; on failure cuts the file back so that no torn record is left mid-journal.
   * On a nearly full disk a write can be short without an error: the rest is written (or its
   * ENOSPC thrown) before the record counts as written.
   */
  writeSync(text: string): void {
    try {
      // Writing the string saves encoding it into a Buffer first; a short write (rare) is
      // finished from the encoded bytes.
      let written = writeSync(this.#fd, text);
      const length = Buffer.byteLength(text);
      if (written < length) {
        const data = Buffer.from(text);
        while (written < data.length) written += writeSync(this.#fd, data, written);
      }
      this.bytes += written;
    } catch (error) {
      try {
        ftruncateSync(this.#fd, this.bytes);
      } catch {
        // The journal reader drops a torn tail anyway.
      }
      throw error;
    }
  }

  sync(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    const done = fdatasyncAsync(this.#fd);
    this.#inFlight = Promise.all([this.#inFlight, done.catch(() => {})]);
    return done;
  }

  /**
   * fdatasync on this thread: for a lone record, cheaper than a round trip to the thread pool.
   * Returns the milliseconds it took. Only for the open journal: a record is never acknowledged
   * on a sync that was skipped.
   */
  syncNow(): number {
    if (this.#closed) throw new Error(`${this.path} is closed; the record was not synced`);
    const started = performance.now();
    fdatasyncSync(this.#fd);
    return performance.now() - started;
  }

  /** Closes the file once the writes and syncs already started on it have finished. */
  async closeWhenIdle(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#inFlight;
    closeSync(this.#fd);
  }
}
