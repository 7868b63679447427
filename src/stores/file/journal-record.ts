import type { CheckpointChange, ItemChange } from '../../core/model.js';
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
 * damaged (its checksum does not match, or it is not a record). `where` names the line in errors.
 * @throws CheckpointCorruptError when the checksum matches but the change is not valid
 */
export function decodeRecord(line: string, where: string): JournalRecord | undefined {
  const space = line.indexOf(' ');
  const json = line.slice(space + 1);
  if (space !== 8 || Number.parseInt(line.slice(0, 8), 16) !== crc32(json)) return undefined;
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
