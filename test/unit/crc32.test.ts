import fc from 'fast-check';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { crc32 } from '../../src/stores/file/crc32.js';

// The reference: zlib's CRC-32 over the UTF-8 bytes (a Buffer, never the string path).
const reference = (text: string): number => zlibCrc32(Buffer.from(text, 'utf8'));

describe('crc32 of a journal record', () => {
  it('is the CRC-32 of the UTF-8 bytes, for ASCII and for any other text', () => {
    for (const text of ['', 'a', '\u007f', '\u0080', 'é', '😀', '\ud800', `{"n":1,"op":"item","key":"doc/0000001.json"}`]) {
      expect(crc32(text), JSON.stringify(text)).toBe(reference(text));
    }
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => crc32(text) === reference(text)), { numRuns: 5000 });
    fc.assert(fc.property(fc.string({ unit: 'grapheme-ascii', maxLength: 200 }), (text) => crc32(text) === reference(text)), { numRuns: 5000 });
  });

  it('of a range of a longer text is the CRC-32 of that range alone', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 60 }), fc.string({ unit: 'binary', maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 60 }), (before, text, after) => {
        const whole = before + text + after;
        return crc32(whole, before.length, before.length + text.length) === reference(text);
      }),
      { numRuns: 5000 },
    );
  });
});
