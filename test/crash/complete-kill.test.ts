/**
 * A SIGKILL at any moment inside complete() leaves a checkpoint that opens: either the whole
 * checkpoint (every item still completed) or none at all (a new run) — never a damaged one.
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { CheckpointManager, type CheckpointEvents } from '../../src/index.js';
import { ChildWorker, seededRandom } from '../support/processes.js';

const CHILD = fileURLToPath(new URL('./complete-child.ts', import.meta.url));
const ITEMS = 2_000;
const directories: string[] = [];

afterEach(() => {
  for (const directory of directories.splice(0)) rmSync(directory, { recursive: true, force: true });
});

async function killedInside(point: string): Promise<{ directory: string; path: string; lines: string[] }> {
  const directory = mkdtempSync(join(tmpdir(), 'checkpointer-complete-kill-'));
  directories.push(directory);
  const path = join(directory, 'checkpoint.json');
  const child = new ChildWorker(CHILD, [path, String(ITEMS)], { env: { ...process.env, CHECKPOINTER_CRASH_AT: point } });
  const exit = await child.exited;
  expect(exit.signal, child.stderr).toBe('SIGKILL');
  expect(child.lines).toEqual(['completing']);
  return { directory, path, lines: child.lines };
}

async function reopen(path: string): Promise<{ completed: number; events: string[] }> {
  const events: string[] = [];
  const on = { recovered: (event: CheckpointEvents['recovered']) => events.push(`recovered from ${event.from}`), warning: (event: CheckpointEvents['warning']) => events.push(`warning ${event.message}`) };
  const cp = await CheckpointManager.open({ path, pipeline: 'complete-kill', on, logger: { warn: () => {}, error: () => {} } });
  const completed = cp.getProgressSummary().steps.work?.completed ?? 0;
  await cp.close();
  return { completed, events };
}

describe('a kill -9 inside complete()', () => {
  for (const point of ['remove:after-compaction', 'remove:after-journal', 'remove:after-backups']) {
    it(`at ${point} leaves the whole checkpoint`, async () => {
      const { path } = await killedInside(point);
      expect(existsSync(path)).toBe(true);
      expect(await reopen(path)).toEqual({ completed: ITEMS, events: [] });
    });
  }

  it('after the snapshot is gone leaves nothing to resume: the next open is a new run', async () => {
    const { directory, path } = await killedInside('remove:after-snapshot');
    // Only the lock of the dead process may be left, and it is taken over at once.
    expect(readdirSync(directory).filter((name) => !name.endsWith('.lock'))).toEqual([]);
    expect(await reopen(path)).toEqual({ completed: 0, events: [] });
  });

  it('at random moments (seeded) leaves the whole checkpoint or none of it', async () => {
    const random = seededRandom(13);
    for (let run = 0; run < 12; run++) {
      const directory = mkdtempSync(join(tmpdir(), 'checkpointer-complete-kill-'));
      directories.push(directory);
      const path = join(directory, 'checkpoint.json');
      const child = new ChildWorker(CHILD, [path, String(ITEMS)]);
      const delay = Math.floor(random() * 40);
      child.onLine((line) => {
        if (line === 'completing') setTimeout(() => child.process.kill('SIGKILL'), delay);
      });
      await child.exited;
      const { completed, events } = await reopen(path);
      expect(events, `run ${run}, killed ${delay} ms into complete()`).toEqual([]);
      expect([0, ITEMS], `run ${run}, killed ${delay} ms into complete()`).toContain(completed);
    }
  });
});
