import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { CheckpointManager } from '../../src/index.js';
import { ChildWorker } from '../support/processes.js';

const CHILD = fileURLToPath(new URL('./tight-loop-child.ts', import.meta.url));
const MARKS = 1_000_000;
let directory: string | undefined;

afterEach(() => {
  if (directory) rmSync(directory, { recursive: true, force: true });
});

it('a tight loop of a million marks keeps the journal about the size of the snapshot, and a kill -9 at its end loses none', async () => {
  directory = mkdtempSync(join(tmpdir(), 'checkpointer-tight-'));
  const path = join(directory, 'checkpoint.json');
  const child = new ChildWorker(CHILD, [path, String(MARKS)]);
  expect((await child.exited).signal, child.stderr).toBe('SIGKILL');
  expect(child.lines).toEqual(['acknowledged']);

  // What a reopen has to read is bounded by the state, not by the history of a million marks:
  // the journals left beside the snapshot (a sealed one and the new one) stay within a few times its size.
  const sizes = Object.fromEntries(readdirSync(directory).map((name) => [name, statSync(join(directory!, name)).size]));
  const snapshot = sizes['checkpoint.json'] ?? 0;
  const journals = Object.entries(sizes).filter(([name]) => name.includes('.journal')).reduce((sum, [, size]) => sum + size, 0);
  expect(snapshot, JSON.stringify(sizes)).toBeGreaterThan(MARKS * 10);
  expect(journals, JSON.stringify(sizes)).toBeLessThan(3.5 * snapshot);

  const cp = await CheckpointManager.open({ path, pipeline: 'tight-loop', logger: { warn: () => {}, error: () => {} } });
  try {
    expect(cp.getProgressSummary().steps.work?.completed).toBe(MARKS);
    expect(cp.isItemCompleted('work', 'item-0')).toBe(true);
    expect(cp.isItemCompleted('work', `item-${MARKS - 1}`)).toBe(true);
  } finally {
    await cp.close();
  }
});
