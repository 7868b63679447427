import * as zlib from 'node:zlib';

const TABLE = new Int32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c;
}

function crc32OfCodeUnits(text: string): number {
  let crc = -1;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    crc = TABLE[(crc ^ code) & 0xff]! ^ (crc >>> 8);
    if (code > 0xff) crc = TABLE[(crc ^ (code >>> 8)) & 0xff]! ^ (crc >>> 8);
  }
  return (crc ^ -1) >>> 0;
}

// zlib.crc32 (Node >= 20.15) is native; older Nodes use the table above.
const nativeCrc32 = (zlib as { crc32?: (data: string) => number }).crc32;

/**
 * CRC-32 of a string's UTF-16 code units. Journal records carry it so that a torn or flipped
 * record is recognised instead of replayed; both sides hash the decoded text, so the encoding
 * on disk does not matter. An ASCII string's code units are its UTF-8 bytes, so there the native
 * zlib CRC-32 (same polynomial, hashing UTF-8) gives the same value several times faster — and
 * nearly every record is ASCII.
 */
export function crc32(text: string): number {
  if (nativeCrc32 && Buffer.byteLength(text) === text.length) return nativeCrc32(text);
  return crc32OfCodeUnits(text);
}
