import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ChildWorker } from '../support/processes.js';

const CHILD = fileURLToPath(new URL('./group-commit-child.ts', import.meta.url));
const MARKS = 16;
const directories: string[] = [];

afterAll(() => {
  for (const directory of directories) rmSync(directory, { recursive: true, force: true });
});

describe("durability 'full'", () => {
  it('commits concurrent marks together: 16 of them cost about as many writes as one', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'checkpointer-group-'));
    directories.push(directory);
    const child = new ChildWorker(CHILD, [join(directory, 'checkpoint.json')]);
    const line = await child.waitForLine((text) => text.startsWith('{'));
    expect(await child.exited).toEqual({ code: 0, signal: null });
    const { concurrent, sequential } = JSON.parse(line) as { concurrent: number; sequential: number };

    // Marks awaited one by one each need their own commit (a write and an fsync, plus the
    // thread pool's wake-ups, all counted as write calls by the kernel).
    const perCommit = sequential / MARKS;
    expect(perCommit).toBeGreaterThanOrEqual(1);
    // Concurrent marks share one commit; allow a second in case the first left early.
    expect(concurrent).toBeLessThanOrEqual(2 * perCommit);
  });
});
