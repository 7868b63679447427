import { closeSync, fdatasync, fdatasyncSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { CheckpointCorruptError } from '../../core/errors.js';
import type { CheckpointChange, ItemChange } from '../../core/model.js';
import { parseChange } from '../../core/schema.js';
import { CRC32_START, crc32, finishCrc32, updateCrc32Ascii, updateCrc32Verbatim } from './crc32.js';
import { filesBeside } from './fs-durable.js';

const fdatasyncAsync = promisify(fdatasync);

export interface JournalRecord {
  sequence: number;
  change: CheckpointChange;
}

/**
 * One record a line: `<crc32 hex> {"n":<sequence>,...change}`. The checksum recognises a torn
 * or damaged line; the sequence number tells which records a snapshot already contains.
 */
export function encodeRecord(sequence: number, change: CheckpointChange): string {
  if (isPlainItem(change)) {
    const line = plainItemRecord(sequence, change);
    if (line !== undefined) return line;
  }
  const json = `{"n":${sequence},${JSON.stringify(change).slice(1)}`;
  return `${hex8(crc32(json))} ${json}\n`;
}

/**
 * The record of one line written by {@link encodeRecord}; `undefined` for a line that is torn or
 * damaged (its checksum does not match, or it is not a record). `where` names the line in errors.
 * @throws CheckpointCorruptError when the checksum matches but the change is not valid
 */
export function decodeRecord(line: string, where: string): JournalRecord | undefined {
  const space = line.indexOf(' ');
  const json = line.slice(space + 1);
  if (space !== 8 || Number.parseInt(line.slice(0, 8), 16) !== crc32(json)) return undefined;
  const plain = PLAIN_ITEM_LINE.exec(json);
  if (plain) {
    const [, n, step, key, status, attempts, at] = plain as unknown as [string, string, string, string, ItemChange['status'], string, string];
    return { sequence: Number(n), change: { op: 'item', step, key, status, attempts: Number(attempts), at: Number(at) } };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return undefined;
  }
  const { n, ...change } = raw as { n: unknown };
  if (typeof n !== 'number' || !Number.isSafeInteger(n)) return undefined;
  return { sequence: n, change: parseChange(change, where) };
}

/**
 * The text {@link plainItemRecord} writes: a plain item mark whose step and key are verbatim
 * ASCII, with integer numbers as JSON.stringify writes them. Such a line is read without
 * JSON.parse and the schema: what it matches is exactly what they would accept and give (a
 * step of 1 to 1,024 characters, a known status, attempts a non-negative integer), so any other
 * line takes the general path. This is the hot path of reopening after a crash.
 */
const VERBATIM = '[\\x20\\x21\\x23-\\x5b\\x5d-\\x7e]';
const PLAIN_ITEM_LINE = new RegExp(
  `^\\{"n":(0|[1-9]\\d{0,14}),"op":"item","step":"(${VERBATIM}{1,1024})","key":"(${VERBATIM}*)","status":"(pending|in_progress|completed|failed|dead_letter)","attempts":(0|[1-9]\\d{0,14}),"at":(0|-?[1-9]\\d{0,15})\\}$`,
);

/** An item mark without error or result: nearly every record. */
const isPlainItem = (change: CheckpointChange): change is ItemChange =>
  change.op === 'item' && change.error === undefined && change.result === undefined && Number.isFinite(change.at) && Number.isFinite(change.attempts);

/**
 * A plain item mark is written out directly, in the key order JSON.stringify gives for the
 * manager's change objects (the same text), with its checksum taken piece by piece as the
 * pieces are made: a key JSON writes as it is costs no JSON.stringify, and no string is read
 * twice. This is the hot path of every mark, hundreds of thousands of times a second.
 * @returns undefined when the step or the key needs escaping or is not ASCII: the generic path
 */
function plainItemRecord(sequence: number, change: ItemChange): string | undefined {
  const prefix = itemPrefix(change.step);
  if (prefix === undefined) return undefined;
  const head = `{"n":${sequence}`;
  const tail = `","status":"${change.status}","attempts":${change.attempts},"at":${change.at}}`;
  const keyed = updateCrc32Verbatim(updateCrc32Ascii(updateCrc32Ascii(CRC32_START, head), prefix), change.key);
  if (keyed === undefined) return undefined;
  const crc = finishCrc32(updateCrc32Ascii(keyed, tail));
  return `${hex8(crc)} ${head}${prefix}${change.key}${tail}\n`;
}

/** `,"op":"item","step":"<step>","key":"` for each step (or undefined if the name is not verbatim ASCII), made once. */
const itemPrefixes = new Map<string, string | undefined>();
function itemPrefix(step: string): string | undefined {
  if (itemPrefixes.has(step)) return itemPrefixes.get(step);
  const prefix = updateCrc32Verbatim(CRC32_START, step) === undefined ? undefined : `,"op":"item","step":"${step}","key":"`;
  if (itemPrefixes.size < 1000) itemPrefixes.set(step, prefix);
  return prefix;
}

const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));
const hex8 = (n: number): string => HEX[n >>> 24]! + HEX[(n >>> 16) & 0xff]! + HEX[(n >>> 8) & 0xff]! + HEX[n & 0xff]!;

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
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], validBytes: 0, tornLines: 0 };
    throw error;
  }
  const records: JournalRecord[] = [];
  let validChars = 0;
  let tornLines = 0;
  let firstBad: number | undefined;
  let start = 0;
  let lineNumber = 0;
  while (start < text.length) {
    lineNumber++;
    const end = text.indexOf('\n', start);
    const complete = end !== -1;
    const line = text.slice(start, complete ? end : text.length);
    const record = complete ? decodeRecord(line, `${file} line ${lineNumber}`) : undefined;
    const next = complete ? end + 1 : text.length;
    if (record) {
      if (firstBad !== undefined) {
        throw new CheckpointCorruptError(`${file}`, [{ path: `line ${firstBad}`, message: 'damaged record (checksum mismatch) followed by valid records' }], {
          hint: 'the journal was modified or damaged in place; move it aside to resume from the snapshot alone, restore a backup, or start over with { onCorrupt: \'restart\' }',
        });
      }
      const last = records[records.length - 1];
      if (last && record.sequence <= last.sequence) {
        throw new CheckpointCorruptError(file, [{ path: `line ${lineNumber}`, message: `sequence ${record.sequence} does not follow ${last.sequence}` }]);
      }
      records.push(record);
      validChars = next;
    } else {
      firstBad ??= lineNumber;
      tornLines++;
    }
    start = next;
  }
  return { records, validBytes: Buffer.byteLength(text.slice(0, validChars)), tornLines };
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
