import { closeSync, fdatasync, fdatasyncSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { CheckpointCorruptError } from '../../core/errors.js';
import { filesBeside } from './fs-durable.js';
import { decodeLine } from './journal-record.js';
import { JournalRecords, RecordColumns } from './journal-records.js';

export { decodeRecord, encodeRecord } from './journal-record.js';
export { JournalRecords, type JournalRecord } from './journal-records.js';

const fdatasyncAsync = promisify(fdatasync);

export interface ReadJournal {
  records: JournalRecords;
  /** Bytes up to the end of the last valid record. */
  validBytes: number;
  /**
   * Lines after the last record that a crash cut short, dropped: the last line without its
   * newline, or lines holding a lost block of 512 or more zero bytes (a power cut can keep a
   * file's new size but not the data written into it).
   */
  tornLines: number;
  /** The bytes after the last record when `tornLines` > 0: what a torn write left. */
  tornTail?: Buffer;
  /** Whether the file holds just its records, one line each: no torn tail, blank line or CRLF line ending. */
  tidy: boolean;
  /** Whether a record appended to the file would be read: it ends after a complete record (no torn tail, no missing newline). */
  appendable: boolean;
}

/**
 * Reads a journal. What a crash can leave at its end — a last line cut short, lines holding a
 * lost block of zero bytes — is a torn write and is dropped. Any other damaged line (a flipped bit, an edit) is
 * damage in place, an error: the record it held was acknowledged, and dropping it would lose it
 * without a word. Blank lines are skipped and a CRLF line ending is read as LF (an editor's or a
 * copy's doing; the records themselves are intact).
 * @throws CheckpointCorruptError for a damaged line, or a torn one followed by good records
 */
export async function readJournal(file: string): Promise<ReadJournal> {
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { records: JournalRecords.empty, validBytes: 0, tornLines: 0, tidy: true, appendable: true };
    throw error;
  }
  try {
    const reader = new JournalReader(file);
    const size = await readLines(handle, (bytes, start, end, complete, offset) => reader.readLine(bytes, start, end, complete, offset));
    const { validBytes, tornLines, tidy } = reader;
    const records = JournalRecords.of(reader.records);
    if (tornLines === 0) return { records, validBytes, tornLines, tidy, appendable: !reader.endsMidLine };
    const tornTail = Buffer.alloc(size - validBytes);
    await handle.read(tornTail, 0, tornTail.length, validBytes);
    return { records, validBytes, tornLines, tornTail, tidy: false, appendable: false };
  } finally {
    await handle.close();
  }
}

/**
 * A journal is read a chunk at a time into one buffer, used again for every chunk: reading a big
 * journal whole would take as much fresh memory as the file, which costs more than reading it.
 */
const CHUNK_BYTES = 1024 * 1024;
const NEWLINE = 0x0a;

/**
 * Calls `line` for each line of the file open in `handle`, in order: `bytes` from `start` to
 * `end` (the newline excluded), `complete` unless it is a last line without a newline, `offset`
 * the file position of `bytes[0]`. The bytes are only valid during the call.
 * @returns the file's size
 */
async function readLines(handle: FileHandle, line: (bytes: Buffer, start: number, end: number, complete: boolean, offset: number) => void): Promise<number> {
  let buffer = Buffer.allocUnsafe(CHUNK_BYTES);
  let offset = 0; // the file position of buffer[0]
  let filled = 0;
  for (;;) {
    if (filled === buffer.length) {
      // A line longer than the buffer: make room for more of it.
      const bigger = Buffer.allocUnsafe(buffer.length * 2);
      buffer.copy(bigger, 0, 0, filled);
      buffer = bigger;
    }
    const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, offset + filled);
    const scanned = filled;
    filled += bytesRead;
    let start = 0;
    for (let end = buffer.indexOf(NEWLINE, scanned); end !== -1 && end < filled; end = buffer.indexOf(NEWLINE, start)) {
      line(buffer, start, end, true, offset);
      start = end + 1;
    }
    if (bytesRead === 0) {
      if (start < filled) line(buffer, start, filled, false, offset);
      return offset + filled;
    }
    buffer.copyWithin(0, start, filled);
    offset += start;
    filled -= start;
  }
}

const DAMAGE_HINT =
  'the journal was changed or damaged in place (an edit, a disk error); `checkpoint-resume validate` lists what is damaged. Restore the journal from a copy, move it aside to resume from the snapshot alone (what it recorded since is done again), or start over with { onCorrupt: \'restart\' }';

/** The state of reading one journal, a line at a time. */
class JournalReader {
  readonly records = new RecordColumns();
  validBytes = 0;
  tornLines = 0;
  tidy = true;
  /** Whether the last line is a record without its newline. */
  endsMidLine = false;
  #firstTorn: number | undefined;
  #lineNumber = 0;
  #lastSequence = -1;

  constructor(readonly file: string) {}

  /** Reads the line of `bytes` from `start` to `end` (its newline excluded) at file position `offset` + `start`. */
  readLine(bytes: Buffer, start: number, end: number, complete: boolean, offset: number): void {
    const lineNumber = ++this.#lineNumber;
    if (complete && (end === start || (end === start + 1 && bytes[start] === CR))) {
      this.tidy = false; // a blank line
      return;
    }
    const crlf = bytes[end - 1] === CR;
    if (crlf) this.tidy = false;
    // A last line without its newline is a write cut short — unless it is a whole record (its
    // newline cut off, or removed by an editor): then it is kept, and the file rewritten.
    if (decodeLine(bytes, start, crlf ? end - 1 : end, this.file, lineNumber, this.records)) {
      const sequence = this.records.sequence(this.records.length - 1);
      if (!complete) {
        this.endsMidLine = true;
        this.tidy = false;
      }
      if (this.#firstTorn !== undefined) this.#damaged(this.#firstTorn, 'torn record (cut short, or zero bytes) followed by valid records');
      if (sequence <= this.#lastSequence) {
        throw new CheckpointCorruptError(this.file, [{ path: `line ${lineNumber}`, message: `sequence ${sequence} does not follow ${this.#lastSequence}` }], { hint: DAMAGE_HINT });
      }
      this.#lastSequence = sequence;
      this.validBytes = offset + (complete ? end + 1 : end);
      return;
    }
    if (!(complete ? holdsLostBlock(bytes, start, end) : isCutShort(bytes, start, end))) this.#damaged(lineNumber, 'damaged record (checksum mismatch)');
    this.#firstTorn ??= lineNumber;
    this.tornLines++;
  }

  #damaged(lineNumber: number, message: string): never {
    throw new CheckpointCorruptError(this.file, [{ path: `line ${lineNumber}`, message }], { hint: DAMAGE_HINT });
  }
}

const CR = 0x0d;
/** The smallest block a disk writes: a write a power cut lost reads back as at least this many zero bytes. */
const SECTOR_BYTES = 512;
const LOST_BLOCK = Buffer.alloc(SECTOR_BYTES);

/**
 * Whether a complete line that is not a record is what a power cut leaves: a block of the file
 * lost (zero bytes, the file's size kept), the lines it held merged into one. A stray zero byte
 * in a line is a flipped bit, not a lost block.
 */
function holdsLostBlock(bytes: Buffer, start: number, end: number): boolean {
  const at = bytes.indexOf(LOST_BLOCK, start);
  return at !== -1 && at + SECTOR_BYTES <= end;
}

/**
 * Whether the last line, without its newline, can be what a write cut short leaves: the start of
 * the record being written, or zero bytes — anything but a line with a CR inside, which is
 * records whose line endings were converted to CR (the writer never writes one).
 */
function isCutShort(bytes: Buffer, start: number, end: number): boolean {
  const cr = bytes.indexOf(CR, start);
  return cr === -1 || cr >= end - 1;
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
