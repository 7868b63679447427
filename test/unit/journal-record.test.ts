import fc from 'fast-check';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { CheckpointChange } from '../../src/core/model.js';
import { parseChange } from '../../src/core/schema.js';
import { decodeRecord, encodeRecord } from '../../src/stores/file/journal.js';

/** The record format by its definition: checksum of the UTF-8 bytes, then the JSON of the change. */
function reference(sequence: number, change: CheckpointChange): string {
  const json = `{"n":${sequence},${JSON.stringify(change).slice(1)}`;
  return `${zlibCrc32(Buffer.from(json)).toString(16).padStart(8, '0')} ${json}\n`;
}

const text = fc.oneof(
  fc.string({ maxLength: 24 }),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.constantFrom('doc/0000001.json', 'a"b', 'a\\b', 'tab\there', '\u007f', 'é', '😀', '\ud800', '__proto__', ''),
);

describe('journal records', () => {
  it('a plain item mark, written by the fast path, is the same text as the definition', () => {
    fc.assert(
      fc.property(
        fc.nat(),
        fc.record({
          step: text.filter((s) => s.length > 0),
          key: text,
          status: fc.constantFrom('completed', 'failed', 'in_progress', 'pending', 'dead_letter'),
          attempts: fc.nat(),
          at: fc.oneof(fc.nat(), fc.constant(1_764_000_000_000), fc.double({ noNaN: true, noDefaultInfinity: true })),
        }),
        (sequence, item) => {
          const change = { op: 'item', ...item } as CheckpointChange;
          expect(encodeRecord(sequence, change)).toBe(reference(sequence, change));
        },
      ),
      { numRuns: 20_000 },
    );
  });

  it('every other change is written by the generic path, the same way', () => {
    const changes: CheckpointChange[] = [
      { op: 'item', step: 's', key: 'k', status: 'failed', attempts: 2, at: 5, error: { message: 'boom "quoted"', name: 'Error' } },
      { op: 'item', step: 's', key: 'k', status: 'completed', attempts: 1, at: 5, result: { rows: [1, 2], note: 'ü' } },
      { op: 'stage', stage: 'load', at: 7 },
      { op: 'counter', name: 'rows', value: 3 },
      { op: 'resetAll' },
    ];
    for (const change of changes) expect(encodeRecord(9, change)).toBe(reference(9, change));
  });

  it('a line is read by the fast path exactly as JSON.parse and the schema read it, or not at all', () => {
    // What the general path gives for a line whose checksum is right.
    const general = (line: string): unknown => {
      try {
        const { n, ...change } = JSON.parse(line.slice(9)) as { n: number };
        return Number.isSafeInteger(n) && n >= 0 ? { sequence: n, change: parseChange(change, 'line') } : 'refused';
      } catch {
        return 'refused';
      }
    };
    const withChecksum = (json: string): string => `${zlibCrc32(Buffer.from(json)).toString(16).padStart(8, '0')} ${json}`;
    const read = (line: string): unknown => {
      try {
        return decodeRecord(line, 'line');
      } catch {
        return 'refused';
      }
    };
    fc.assert(
      fc.property(
        fc.nat(),
        fc.record({
          step: text,
          key: text,
          status: fc.constantFrom('completed', 'failed', 'in_progress', 'pending', 'dead_letter', 'done'),
          attempts: fc.oneof(fc.nat(), fc.integer({ min: -3, max: -1 }), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(2 ** 53)),
          at: fc.oneof(fc.nat(), fc.constant(1_764_000_000_000), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })),
        }),
        (sequence, item) => {
          const line = withChecksum(`{"n":${sequence},${JSON.stringify({ op: 'item', ...item }).slice(1)}`);
          expect(read(line)).toEqual(general(line));
        },
      ),
      { numRuns: 20_000 },
    );
    // Text JSON reads but JSON.stringify never writes: the fast path must not read it differently.
    for (const json of [
      '{"n":01,"op":"item","step":"s","key":"k","status":"completed","attempts":1,"at":5}',
      '{"n":1,"op":"item","step":"s","key":"k","status":"completed","attempts":1,"at":-0}',
      '{"n":1,"op":"item","step":"s","key":"k","status":"completed","attempts":1,"at":5,"extra":1}',
      '{"n":1,"op":"item","step":"","key":"k","status":"completed","attempts":1,"at":5}',
      `{"n":1,"op":"item","step":"${'s'.repeat(1025)}","key":"k","status":"completed","attempts":1,"at":5}`,
      '{"n":99999999999999999,"op":"item","step":"s","key":"k","status":"completed","attempts":1,"at":5}',
    ]) {
      expect(read(withChecksum(json))).toEqual(general(withChecksum(json)));
    }
  });

  it('a line reads back as the record it was written from; a line with any character changed does not', () => {
    const changes: CheckpointChange[] = [
      { op: 'item', step: 'enrich', key: 'doc/1.json', status: 'completed', attempts: 1, at: 1_764_000_000_000 },
      { op: 'item', step: 's', key: 'k', status: 'failed', attempts: 2, at: 5, error: { message: 'boom "quoted" é', name: 'Error' } },
      { op: 'counter', name: 'rows', value: 3 },
    ];
    for (const [i, change] of changes.entries()) {
      const line = encodeRecord(i + 1, change).slice(0, -1);
      expect(decodeRecord(line, 'line 1')).toEqual({ sequence: i + 1, change });
      for (let at = 0; at < line.length; at++) {
        const changed = line.slice(0, at) + (line[at] === 'x' ? 'y' : 'x') + line.slice(at + 1);
        expect(decodeRecord(changed, 'line 1')).toBeUndefined();
      }
    }
  });
});
