import * as zlib from 'node:zlib';

const TABLE = new Int32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c;
}

function crc32OfBytes(bytes: Uint8Array): number {
  let crc = -1;
  for (let i = 0; i < bytes.length; i++) crc = TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

// zlib.crc32 (Node >= 20.15) is native and hashes a string's UTF-8 bytes; older Nodes use the table.
const nativeCrc32 = (zlib as { crc32?: (data: string) => number }).crc32;

/**
 * CRC-32 (the zlib polynomial) of a string's UTF-8 bytes. Journal records carry it so that a
 * torn or flipped record is recognised instead of replayed.
 */
export const crc32: (text: string) => number = nativeCrc32 ?? ((text) => crc32OfBytes(Buffer.from(text)));
