import { isVerbatim } from './json-verbatim.js';

const QUOTE = 0x22;

/** The parts of a rendered list of keys around the keys themselves. */
export interface ListLayout {
  /** Before the first key. */
  lead: string;
  /** Before each key. */
  before: string;
  /** Between two keys. */
  between: string;
  /** After the last key. */
  tail: string;
}

/**
 * The UTF-8 bytes of `keys` as JSON strings laid out by `layout`: the completed-item lists of a
 * snapshot, nearly all of a big one, written at every compaction. A key that JSON writes as it is
 * (printable ASCII without `"` or `\`: nearly every key) is copied into the buffer a character
 * at a time as it is checked, with no string made for it and nothing encoded twice; any other key
 * is written as `JSON.stringify` writes it.
 */
export function renderKeyList(keys: readonly string[], layout: ListLayout): Buffer {
  const lead = Buffer.from(layout.lead);
  const before = Buffer.from(layout.before);
  const between = Buffer.from(layout.between);
  const tail = Buffer.from(layout.tail);
  // The size if every key is written as it is; a key that is not takes more, and the buffer grows.
  let size = lead.length + tail.length + keys.length * (before.length + 2) + Math.max(0, keys.length - 1) * between.length;
  for (let k = 0; k < keys.length; k++) size += keys[k]!.length;
  let out = Buffer.allocUnsafe(size);
  let at = copy(out, 0, lead);
  for (let k = 0; k < keys.length; k++) {
    if (k > 0) at = copy(out, at, between);
    at = copy(out, at, before);
    const key = keys[k]!;
    const start = at;
    out[at++] = QUOTE;
    let i = 0;
    for (; i < key.length; i++) {
      const unit = key.charCodeAt(i);
      if (!isVerbatim(unit)) break;
      out[at++] = unit;
    }
    if (i === key.length) {
      out[at++] = QUOTE;
      continue;
    }
    const json = JSON.stringify(key);
    const bytes = Buffer.byteLength(json);
    size += bytes - (key.length + 2);
    if (size > out.length) {
      const bigger = Buffer.allocUnsafe(size + (size >>> 3));
      out.copy(bigger, 0, 0, start);
      out = bigger;
    }
    at = start + out.write(json, start, 'utf8');
  }
  copy(out, at, tail);
  return out.subarray(0, size);
}

function copy(out: Buffer, at: number, bytes: Uint8Array): number {
  for (let i = 0; i < bytes.length; i++) out[at + i] = bytes[i]!;
  return at + bytes.length;
}
