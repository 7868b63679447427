/**
 * Records missing from the journal are found, not silently skipped: a line deleted from the
 * middle, or an older snapshot (a backup) copied over the current one.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { CheckpointCorruptError, CheckpointManager } from '../../src/index.js';
import { ChildWorker } from '../support/processes.js';

const CHILD = fileURLToPath(new URL('../crash/tight-loop-child.ts', import.meta.url));
const quiet = { warn: (): void => {}, error: (): void => {} };
let directory: string | undefined;
afterEach(() => {
  if (directory) rmSync(directory, { recursive: true, force: true });
});

/** Marks item-0 … item-(count-1) in a child that is then SIGKILLed: they stay in the journal. */
async function markAndKill(path: string, count: number): Promise<void> {
  const child = new ChildWorker(CHILD, [path, String(count)]);
  expect((await child.exited).signal, child.stderr).toBe('SIGKILL');
}

const open = (path: string) => CheckpointManager.open({ path, pipeline: 'tight-loop', logger: quiet });

describe('missing journal records', () => {
  it('a line deleted from the middle of the journal is a CheckpointCorruptError naming the missing record', async () => {
    directory = mkdtempSync(join(tmpdir(), 'checkpointer-gaps-'));
    const path = join(directory, 'cp.json');
    await markAndKill(path, 1000);
    const lines = readFileSync(`${path}.journal`, 'utf8').split('\n');
    writeFileSync(`${path}.journal`, [...lines.slice(0, 500), ...lines.slice(501)].join('\n'));
    const error = await open(path).then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(CheckpointCorruptError);
    expect((error as Error).message).toMatch(/record 501 is missing/);
  });

  it('an older snapshot put in place of the current one is a CheckpointCorruptError, not a silent loss', async () => {
    directory = mkdtempSync(join(tmpdir(), 'checkpointer-gaps-'));
    const path = join(directory, 'cp.json');
    await markAndKill(path, 500);
    copyFileSync(path, `${path}.older`); // the first snapshot, from before any item
    await (await open(path)).close(); // compacts: a new snapshot holds item-0 … item-499
    await markAndKill(path, 1000); // item-500 … item-999 in the journal, after the new snapshot
    copyFileSync(`${path}.older`, path);
    const error = await open(path).then(() => undefined, (caught: unknown) => caught);
    expect(error).toBeInstanceOf(CheckpointCorruptError);
    expect((error as Error).message).toMatch(/records 1…\d+ are missing/);
  });

  it('opens as before when nothing is missing', async () => {
    directory = mkdtempSync(join(tmpdir(), 'checkpointer-gaps-'));
    const path = join(directory, 'cp.json');
    await markAndKill(path, 500);
    await (await open(path)).close();
    await markAndKill(path, 1000);
    const cp = await open(path);
    expect(cp.getProgressSummary().steps.work?.completed).toBe(1000);
    await cp.close();
  });
});
