import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { checkpointWithJournal } from './helpers.js';

const child = fileURLToPath(new URL('./children/reopen-heap.ts', import.meta.url));
const run = promisify(execFile);

describe('reopening a checkpoint whose journal holds every change', () => {
  it('keeps the keys it read, not the text of the journal they were read from', async () => {
    const items = 150_000;
    // Keys of 16 characters and more: a slice of a bigger string that long would point into it.
    const path = await checkpointWithJournal('heap', items, (i) => `doc/${String(i).padStart(7, '0')}.json`);
    const journalBytes = statSync(`${path}.journal`).size;

    const { stdout } = await run(process.execPath, ['--expose-gc', '--import', 'tsx', child, path, String(items)], { maxBuffer: 1 << 20 });
    const { growth, completed } = JSON.parse(stdout) as { growth: number; completed: number };
    expect(completed).toBe(items);
    // The keys and their table take about 50 bytes an item; the journal's lines are 125 bytes each.
    // A key that was a slice of the text it was read from would keep all of it.
    expect(growth).toBeLessThan(journalBytes / 2);
  });
});
