import { closeSync, fdatasyncSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { encodeRecord } from '../../../src/stores/file/journal.js';
import { keyOf } from '../lib/measure.js';

export const STEP = 'enrich';

let files = 0;

/** The length in bytes of the journal record the library writes for marking item `i` completed. */
export function journalLineBytes(i: number): number {
  return Buffer.byteLength(encodeRecord(i + 1, { op: 'item', step: STEP, key: keyOf(i), status: 'completed', attempts: 1, at: Date.now() }));
}

/**
 * The raw cost of the disk: one `fs.writeSync` append per record, each a line of the same
 * length as the library's journal record (a JSON object padded to the same byte count), built
 * per record as any hand-written logger would. With `fsyncEach`, an fdatasync after every write.
 * With `recordsPerWrite` (default 1), that many records are joined into each write: the floor of
 * a batch (`batched`) or of a group commit (`full` with marks in flight).
 */
export function rawAppend(directory: string, count: number, options: { fsyncEach: boolean; recordsPerWrite?: number }): number {
  const perWrite = options.recordsPerWrite ?? 1;
  const padding = journalLineBytes(count >> 1);
  // A fresh file each time, like the library's fresh journal: an fdatasync's cost depends on the file.
  const fd = openSync(join(directory, `raw-${++files}.log`), 'a');
  const start = performance.now();
  let pending = '';
  for (let i = 0; i < count; i++) {
    const json = `{"op":"item","step":"${STEP}","key":"${keyOf(i)}","status":"completed","attempts":1,"at":${Date.now()}}`;
    pending += `${json.padEnd(padding - 1)}\n`;
    if ((i + 1) % perWrite !== 0 && i + 1 !== count) continue;
    writeSync(fd, pending);
    pending = '';
    if (options.fsyncEach) fdatasyncSync(fd);
  }
  fdatasyncSync(fd);
  const elapsed = performance.now() - start;
  closeSync(fd);
  return elapsed;
}
