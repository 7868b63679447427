import type { CheckpointChange, ItemChange } from '../../core/model.js';
import { CheckpointCorruptError } from '../../core/errors.js';
import { isJsonObject } from '../../core/json.js';
import { parseChange } from '../../core/schema.js';
import { CRC32_START, crc32, finishCrc32, updateCrc32Ascii, updateCrc32Verbatim } from './crc32.js';

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
 * damaged (its checksum does not match). `where` names the line in errors.
 * @throws CheckpointCorruptError when the checksum matches but the line is not a valid record
 */
export const decodeRecord = (line: string, where: string): JournalRecord | undefined => decodeLine(line, 0, line.length, where);

/**
 * {@link decodeRecord} of the line of `text` from `start` to `end` (its newline excluded), read in
 * place; errors name it `<where> line <lineNumber>` (just `where` without a number).
 */
export function decodeLine(text: string, start: number, end: number, where: string, lineNumber?: number): JournalRecord | undefined {
  const json = start + 9;
  if (end <= json || text.charCodeAt(json - 1) !== SPACE || readHex8(text, start) !== crc32(text, json, end)) return undefined;
  const plain = readPlainItem(text, json, end);
  if (plain) return plain;
  // The checksum matches: the line is as it was written, so what it holds is not torn but wrong.
  const location = lineNumber === undefined ? where : `${where} line ${lineNumber}`;
  let raw: unknown;
  try {
    raw = JSON.parse(text.slice(json, end));
  } catch (error) {
    throw new CheckpointCorruptError(location, [{ path: '', message: `not JSON (${(error as Error).message})` }]);
  }
  if (!isJsonObject(raw)) throw new CheckpointCorruptError(location, [{ path: '', message: 'expected a JSON object' }]);
  const { n, ...change } = raw;
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) {
    throw new CheckpointCorruptError(location, [{ path: 'n', message: `expected a sequence number (a non-negative integer), received ${JSON.stringify(n) ?? 'nothing'}` }]);
  }
  return { sequence: n, change: parseChange(change, location) };
}

const SPACE = 0x20;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const MINUS = 0x2d;

/** The 8 lowercase hex digits at `start` (as {@link hex8} writes them), or -1. */
function readHex8(text: string, start: number): number {
  let value = 0;
  for (let i = start; i < start + 8; i++) {
    const unit = text.charCodeAt(i);
    const digit = unit >= 0x30 && unit <= 0x39 ? unit - 0x30 : unit >= 0x61 && unit <= 0x66 ? unit - 0x57 : -1;
    if (digit === -1) return -1;
    value = value * 16 + digit;
  }
  return value;
}

/** The item status at `at` in `text`, followed by its closing quote; told by its first letter. */
function statusAt(text: string, at: number): ItemChange['status'] | undefined {
  const status = STATUS_BY_INITIAL[text.charCodeAt(at) - 0x61];
  return status !== undefined && text.startsWith(status, at) && text.charCodeAt(at + status.length) === QUOTE ? status : undefined;
}

const STATUS_BY_INITIAL: (ItemChange['status'] | undefined)[] = [];
for (const status of ['completed', 'pending', 'in_progress', 'failed', 'dead_letter'] as const satisfies readonly ItemChange['status'][]) {
  STATUS_BY_INITIAL[status.charCodeAt(0) - 0x61] = status;
}

/**
 * Reads the text {@link plainItemRecord} writes, in place: a plain item mark whose step and key
 * are verbatim ASCII, with integer numbers as JSON.stringify writes them. Such a line is read
 * without JSON.parse and the schema: what it reads is exactly what they would accept and give (a
 * step of 1 to 1,024 characters, a known status, attempts a non-negative integer), and any other
 * line — `undefined` here — takes the general path. This is the hot path of reopening after a
 * crash: no regular expression, and no string made but the key (and the step, once per run of
 * records of the same step).
 */
function readPlainItem(text: string, start: number, end: number): JournalRecord | undefined {
  const line = new LineReader(text, start);
  if (!line.literal('{"n":')) return undefined;
  const sequence = line.integer(15, false);
  if (sequence === -1 || !line.literal(',"op":"item","step":"')) return undefined;
  const step = line.verbatim(1, 1024, lastStep);
  if (step === undefined || !line.literal('","key":"')) return undefined;
  const key = line.verbatim(0, Infinity, undefined);
  if (key === undefined || !line.literal('","status":"')) return undefined;
  const status = statusAt(text, line.at);
  if (status === undefined) return undefined;
  line.at += status.length;
  if (!line.literal('","attempts":')) return undefined;
  const attempts = line.integer(15, false);
  if (attempts === -1 || !line.literal(',"at":')) return undefined;
  const at = line.integer(16, true);
  if (Number.isNaN(at) || !line.literal('}') || line.at !== end) return undefined;
  lastStep = step;
  return { sequence, change: { op: 'item', step, key, status, attempts, at } };
}

/** The step of the last plain record read: the next record's step is nearly always the same string. */
let lastStep: string | undefined;

/** A cursor over one line of a journal's text. */
class LineReader {
  constructor(
    readonly text: string,
    public at: number,
  ) {}

  /** Steps over `expected` if the text goes on with it. */
  literal(expected: string): boolean {
    if (!this.text.startsWith(expected, this.at)) return false;
    this.at += expected.length;
    return true;
  }

  /**
   * An integer as JSON.stringify writes one (`0`, or no leading zero) of at most `maxDigits`
   * digits, negative only if `signed`. @returns the number, or -1 (NaN when `signed`) for none
   */
  integer(maxDigits: number, signed: boolean): number {
    const { text } = this;
    const negative = signed && text.charCodeAt(this.at) === MINUS;
    const first = negative ? this.at + 1 : this.at;
    let i = first;
    let value = 0;
    for (let unit = text.charCodeAt(i); unit >= 0x30 && unit <= 0x39 && i - first < maxDigits; unit = text.charCodeAt(++i)) value = value * 10 + (unit - 0x30);
    const digits = i - first;
    const none = signed ? Number.NaN : -1;
    if (digits === 0 || (text.charCodeAt(first) === 0x30 && (digits > 1 || negative))) return none;
    const next = text.charCodeAt(i);
    if (next >= 0x30 && next <= 0x39) return none; // more digits than allowed
    this.at = i;
    // Up to 15 digits the sum is exact; a 16th may round, so it is read as JSON.parse reads it.
    if (digits > 15) value = Number(text.slice(first, i));
    return negative ? -value : value;
  }

  /**
   * A string JSON writes as it is (printable ASCII without `"` or `\`) of `min` to `max`
   * characters, up to the closing quote, which is not stepped over; `same` when it is that string.
   */
  verbatim(min: number, max: number, same: string | undefined): string | undefined {
    const { text } = this;
    const start = this.at;
    let i = start;
    for (let unit = text.charCodeAt(i); unit !== QUOTE; unit = text.charCodeAt(++i)) {
      if (!(unit >= SPACE && unit <= 0x7e) || unit === BACKSLASH) return undefined; // NaN at the end of the text too
    }
    const length = i - start;
    if (length < min || length > max) return undefined;
    this.at = i;
    return same !== undefined && same.length === length && text.startsWith(same, start) ? same : text.slice(start, i);
  }
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

