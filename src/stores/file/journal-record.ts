import type { CheckpointChange, ItemChange } from '../../core/model.js';
import { CheckpointCorruptError } from '../../core/errors.js';
import { isJsonObject } from '../../core/json.js';
import { parseChange } from '../../core/schema.js';
import { ITEM_STATUSES, type JournalRecord } from './journal-records.js';
import { isVerbatim } from './json-verbatim.js';
import { CRC32_START, crc32, crc32OfBytes, finishCrc32, updateCrc32Ascii, updateCrc32Verbatim } from './crc32.js';

export type { JournalRecord } from './journal-records.js';

/** Where {@link decodeLine} puts the record it reads: a plain item mark in parts, any other change whole. */
export interface RecordSink {
  pushItem(sequence: number, step: string, key: string, status: number, attempts: number, at: number): void;
  push(sequence: number, change: CheckpointChange): void;
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
 * damaged (its checksum does not match). `where` names the line in errors.
 * @throws CheckpointCorruptError when the checksum matches but the line is not a valid record
 */
export function decodeRecord(line: string, where: string): JournalRecord | undefined {
  const bytes = Buffer.from(line);
  let record: JournalRecord | undefined;
  decodeLine(bytes, 0, bytes.length, where, undefined, {
    pushItem: (sequence, step, key, status, attempts, at) => (record = { sequence, change: { op: 'item', step, key, status: ITEM_STATUSES[status]!, attempts, at } }),
    push: (sequence, change) => (record = { sequence, change }),
  });
  return record;
}

/**
 * {@link decodeRecord} of the line of `bytes` from `start` to `end` (its newline excluded), read
 * in place into `into`: the checksum is taken over the bytes as written; errors name it
 * `<where> line <lineNumber>` (just `where` without a number).
 * @returns whether the line is a record (else it is torn or damaged, and `into` is left as it was)
 */
export function decodeLine(bytes: Buffer, start: number, end: number, where: string, lineNumber: number | undefined, into: RecordSink): boolean {
  const json = start + 9;
  if (end <= json || bytes[json - 1] !== SPACE || readHex8(bytes, start) !== crc32OfBytes(bytes, json, end)) return false;
  if (readPlainItem(bytes, json, end, into)) return true;
  // The checksum matches: the line is as it was written, so what it holds is not torn but wrong.
  const location = lineNumber === undefined ? where : `${where} line ${lineNumber}`;
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString('utf8', json, end));
  } catch (error) {
    throw new CheckpointCorruptError(location, [{ path: '', message: `not JSON (${(error as Error).message})` }]);
  }
  if (!isJsonObject(raw)) throw new CheckpointCorruptError(location, [{ path: '', message: 'expected a JSON object' }]);
  const { n, ...change } = raw;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new CheckpointCorruptError(location, [{ path: 'n', message: `expected a sequence number (a non-negative integer), received ${JSON.stringify(n) ?? 'nothing'}` }]);
  }
  into.push(n, parseChange(change, location));
  return true;
}

const SPACE = 0x20;
const QUOTE = 0x22;
const MINUS = 0x2d;

/** The 8 lowercase hex digits at `start` (as {@link hex8} writes them), or -1. */
function readHex8(bytes: Buffer, start: number): number {
  let value = 0;
  for (let i = start; i < start + 8; i++) {
    const unit = bytes[i]!;
    const digit = unit >= 0x30 && unit <= 0x39 ? unit - 0x30 : unit >= 0x61 && unit <= 0x66 ? unit - 0x57 : -1;
    if (digit === -1) return -1;
    value = value * 16 + digit;
  }
  return value;
}

/** The index in ITEM_STATUSES of each status, by its first letter (each is the only one with its letter). */
const STATUS_BY_INITIAL: (number | undefined)[] = [];
for (const [index, status] of ITEM_STATUSES.entries()) STATUS_BY_INITIAL[status.charCodeAt(0) - 0x61] = index;

const ascii = (text: string): Uint8Array => Buffer.from(text, 'latin1');
const RECORD_START = ascii('{"n":');
const ITEM_STEP = ascii(',"op":"item","step":"');
const KEY = ascii('","key":"');
const STATUS = ascii('","status":"');
const ATTEMPTS = ascii('","attempts":');
const AT = ascii(',"at":');
const RECORD_END = ascii('}');

/**
 * Reads the text {@link plainItemRecord} writes, in place: a plain item mark whose step and key
 * are verbatim ASCII, with integer numbers as JSON.stringify writes them. Such a line is read
 * without JSON.parse and the schema: what it reads is exactly what they would accept and give (a
 * step of 1 to 1,024 characters, a known status, attempts a non-negative integer), and any other
 * line — `undefined` here — takes the general path. This is the hot path of reopening after a
 * crash: no regular expression, and no string made but the key (and the step, once per run of
 * records of the same step), each a string of its own (not a slice of a bigger one, which would
 * keep all of it alive as long as the checkpoint holds the key).
 */
function readPlainItem(bytes: Buffer, start: number, end: number, into: RecordSink): boolean {
  const line = new LineReader(bytes, start, end);
  if (!line.literal(RECORD_START)) return false;
  const sequence = line.integer(15, false);
  if (sequence === -1 || !line.literal(ITEM_STEP)) return false;
  const step = line.verbatim(1, 1024, lastStep);
  if (step === undefined || !line.literal(KEY)) return false;
  const key = line.verbatim(0, Infinity, undefined);
  if (key === undefined || !line.literal(STATUS)) return false;
  const status = line.status();
  if (status === -1 || !line.literal(ATTEMPTS)) return false;
  const attempts = line.integer(15, false);
  if (attempts === -1 || !line.literal(AT)) return false;
  const at = line.integer(16, true);
  if (Number.isNaN(at) || !line.literal(RECORD_END) || line.at !== end) return false;
  lastStep = step;
  into.pushItem(sequence, step, key, status, attempts, at);
  return true;
}

/** The step of the last plain record read: the next record's step is nearly always the same string. */
let lastStep: string | undefined;

/** A cursor over the bytes of one line, from `at` to `end`. */
class LineReader {
  constructor(
    readonly bytes: Buffer,
    public at: number,
    readonly end: number,
  ) {}

  /** Steps over `expected` if the line goes on with it. */
  literal(expected: Uint8Array): boolean {
    const { bytes, at } = this;
    if (at + expected.length > this.end) return false;
    for (let i = 0; i < expected.length; i++) if (bytes[at + i] !== expected[i]) return false;
    this.at = at + expected.length;
    return true;
  }

  /**
   * An integer as JSON.stringify writes one (`0`, or no leading zero) of at most `maxDigits`
   * digits, negative only if `signed`. @returns the number, or -1 (NaN when `signed`) for none
   */
  integer(maxDigits: number, signed: boolean): number {
    const { bytes, end } = this;
    const negative = signed && this.at < end && bytes[this.at] === MINUS;
    const first = negative ? this.at + 1 : this.at;
    let i = first;
    let value = 0;
    for (; i < end && i - first < maxDigits && bytes[i]! >= 0x30 && bytes[i]! <= 0x39; i++) value = value * 10 + (bytes[i]! - 0x30);
    const digits = i - first;
    const none = signed ? Number.NaN : -1;
    if (digits === 0 || (bytes[first] === 0x30 && (digits > 1 || negative))) return none;
    if (i < end && bytes[i]! >= 0x30 && bytes[i]! <= 0x39) return none; // more digits than allowed
    this.at = i;
    // Up to 15 digits the sum is exact; a 16th may round, so it is read as JSON.parse reads it.
    if (digits > 15) value = Number(bytes.toString('latin1', first, i));
    return negative ? -value : value;
  }

  /**
   * A string JSON writes as it is (printable ASCII without `"` or `\`) of `min` to `max`
   * characters, up to the closing quote, which is not stepped over; `same` when it is that string.
   */
  verbatim(min: number, max: number, same: string | undefined): string | undefined {
    const { bytes, end } = this;
    const start = this.at;
    let i = start;
    for (; i < end && bytes[i] !== QUOTE; i++) if (!isVerbatim(bytes[i]!)) return undefined;
    const length = i - start;
    if (i === end || length < min || length > max) return undefined;
    this.at = i;
    return same !== undefined && same.length === length && isSame(bytes, start, same) ? same : bytes.toString('latin1', start, i);
  }

  /** An item status followed by its closing quote, told by its first letter. @returns its index in ITEM_STATUSES, or -1 */
  status(): number {
    const index = STATUS_BY_INITIAL[this.bytes[this.at]! - 0x61];
    if (index === undefined) return -1;
    const status = ITEM_STATUSES[index]!;
    if (this.at + status.length >= this.end || this.bytes[this.at + status.length] !== QUOTE || !isSame(this.bytes, this.at, status)) return -1;
    this.at += status.length;
    return index;
  }
}

/** Whether the bytes from `start` are the ASCII text `same` (the caller knows what follows it). */
function isSame(bytes: Buffer, start: number, same: string): boolean {
  for (let i = 0; i < same.length; i++) if (bytes[start + i] !== same.charCodeAt(i)) return false;
  return true;
}

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
  const tail = itemTail(change);
  const keyed = updateCrc32Verbatim(updateCrc32Ascii(updateCrc32Ascii(CRC32_START, head), prefix), change.key);
  if (keyed === undefined) return undefined;
  const crc = finishCrc32(updateCrc32Ascii(keyed, tail));
  return `${hex8(crc)} ${head}${prefix}${change.key}${tail}\n`;
}

/**
 * `","status":…,"at":…}`, the same for the marks of one millisecond: the last one is kept, as
 * turning a timestamp into its digits costs more than the rest of the line.
 */
function itemTail(change: ItemChange): string {
  const { status, attempts, at } = change;
  if (at !== lastTail.at || attempts !== lastTail.attempts || status !== lastTail.status) {
    lastTail = { status, attempts, at, text: `","status":"${status}","attempts":${attempts},"at":${at}}` };
  }
  return lastTail.text;
}

let lastTail = { status: '', attempts: Number.NaN, at: Number.NaN, text: '' };

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

