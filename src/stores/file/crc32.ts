import * as zlib from 'node:zlib';
import { isVerbatim } from './json-verbatim.js';

const TABLE = new Int32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c;
}
// Slicing by four: Tk[n] is the CRC state of byte n followed by k zero bytes, so four
// bytes are folded in with four independent lookups instead of a chain of four.
const shifted = (table: Int32Array): Int32Array => table.map((c) => TABLE[c & 0xff]! ^ (c >>> 8));
const T0 = TABLE;
const T1 = shifted(T0);
const T2 = shifted(T1);
const T3 = shifted(T2);

// zlib.crc32 (Node >= 20.15) is native, hashes a string's UTF-8 bytes and continues from a
// previous checksum; older Nodes use the table.
const nativeCrc32 = (zlib as { crc32?: (data: string | Uint8Array, value?: number) => number }).crc32;
const crc32OfUtf8: (text: string) => number = nativeCrc32 ?? ((text) => crc32OfBytes(Buffer.from(text)));


/**
 * CRC-32 (the zlib polynomial) of the UTF-8 bytes of `text`, or of its characters from `start` to
 * `end`. Journal records carry it so that a torn or flipped record is recognised instead of replayed.
 *
 * An ASCII string's UTF-16 units are its UTF-8 bytes, so the table runs over them directly. For
 * a record of about a hundred characters, which is freshly concatenated and not yet flat, this
 * costs a third of the native call, which first copies the string out as UTF-8. Any other
 * string takes the native path.
 */
export function crc32(text: string, start = 0, end = text.length): number {
  let crc = -1;
  let units = 0;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    const a = text.charCodeAt(i);
    const b = text.charCodeAt(i + 1);
    const c = text.charCodeAt(i + 2);
    const d = text.charCodeAt(i + 3);
    units |= a | b | c | d;
    crc ^= a | (b << 8) | (c << 16) | (d << 24);
    crc = T3[crc & 0xff]! ^ T2[(crc >>> 8) & 0xff]! ^ T1[(crc >>> 16) & 0xff]! ^ T0[crc >>> 24]!;
  }
  for (; i < end; i++) {
    const unit = text.charCodeAt(i);
    units |= unit;
    crc = TABLE[(crc ^ unit) & 0xff]! ^ (crc >>> 8);
  }
  return units > 0x7f ? crc32OfUtf8(text.slice(start, end)) : (crc ^ -1) >>> 0;
}

/**
 * CRC-32 of `bytes` from `start` to `end`, in place: a journal line is checked where it was read,
 * without a copy or a native call per line (which would cost more than the sum for ~100 bytes).
 */
export function crc32OfBytes(bytes: Uint8Array, start = 0, end = bytes.length): number {
  let crc = -1;
  let i = start;
  for (; i + 4 <= end; i += 4) {
    crc ^= bytes[i]! | (bytes[i + 1]! << 8) | (bytes[i + 2]! << 16) | (bytes[i + 3]! << 24);
    crc = T3[crc & 0xff]! ^ T2[(crc >>> 8) & 0xff]! ^ T1[(crc >>> 16) & 0xff]! ^ T0[crc >>> 24]!;
  }
  for (; i < end; i++) crc = TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

/** The state a CRC-32 starts from; {@link finishCrc32} turns a state into the checksum. */
export const CRC32_START = -1;

export const finishCrc32 = (state: number): number => (state ^ -1) >>> 0;

/** Continues a CRC-32 over `text`, which must be ASCII (its UTF-16 units are then its UTF-8 bytes). */
export function updateCrc32Ascii(state: number, text: string): number {
  let crc = state;
  let i = 0;
  for (; i + 4 <= text.length; i += 4) {
    crc ^= text.charCodeAt(i) | (text.charCodeAt(i + 1) << 8) | (text.charCodeAt(i + 2) << 16) | (text.charCodeAt(i + 3) << 24);
    crc = T3[crc & 0xff]! ^ T2[(crc >>> 8) & 0xff]! ^ T1[(crc >>> 16) & 0xff]! ^ T0[crc >>> 24]!;
  }
  for (; i < text.length; i++) crc = TABLE[(crc ^ text.charCodeAt(i)) & 0xff]! ^ (crc >>> 8);
  return crc;
}

/**
 * Continues a CRC-32 over `text` if JSON writes it as it is inside quotes and it is ASCII:
 * printable, no `"` and no `\`. @returns the new state, or undefined for any other text
 */
export function updateCrc32Verbatim(state: number, text: string): number | undefined {
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (!isVerbatim(unit)) return undefined;
  }
  return updateCrc32Ascii(state, text);
}

/**
 * The CRC-32 of the bytes before `bytes` (0 for none) continued over `bytes`. Without the native
 * call the table runs over the bytes as latin1 text, whose UTF-16 units are the bytes.
 */
export function continueCrc32(crc: number, bytes: Uint8Array): number {
  if (nativeCrc32) return nativeCrc32(bytes, crc);
  return finishCrc32(updateCrc32Ascii(crc ^ -1, Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1')));
}
