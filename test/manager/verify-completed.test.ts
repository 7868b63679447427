import { mkdirSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CheckpointArgumentError, CheckpointManager, CheckpointVerifyError, type WarningEvent } from '../../src/index.js';
import { ChildWorker } from '../support/processes.js';
import { open, openHearing, tempDir } from '../stores/helpers.js';

const quiet = { warn: () => {}, error: () => {} };
const job = fileURLToPath(new URL('./children/output-job.ts', import.meta.url));
const keys = ['a', 'b', 'c', 'd', 'e'];

/** A checkpoint whose step `render` completed every key, each with its output file on disk. */
async function renderedRun(): Promise<{ path: string; outputs: string }> {
  const directory = tempDir();
  const path = join(directory, 'checkpoint.json');
  const outputs = join(directory, 'out');
  mkdirSync(outputs);
  const cp = await CheckpointManager.open({ path, logger: quiet });
  for (const key of keys) {
    writeFileSync(join(outputs, `${key}.txt`), `output of ${key}`);
    await cp.markItemCompleted('render', key, { file: `${key}.txt` });
  }
  await cp.close();
  return { path, outputs };
}

/** Wants a non-empty output file, found through the result saved with the item. */
const outputExists = (outputs: string) => async (_key: string, result: unknown): Promise<boolean> => {
  const file = (result as { file: string }).file;
  return ((await stat(join(outputs, file)).catch(() => undefined))?.size ?? 0) > 0;
};

describe('verifyCompleted', () => {
  it('makes an item whose output was deleted or emptied pending again, keeps the others completed, and says so', async () => {
    const { path, outputs } = await renderedRun();
    rmSync(join(outputs, 'b.txt'));
    truncateSync(join(outputs, 'd.txt'), 0);

    const { cp, warnings } = await openHearing({ path, logger: quiet, verifyCompleted: outputExists(outputs) });
    expect(keys.map((key) => cp.getItemStatus('render', key))).toEqual(['completed', 'pending', 'completed', 'pending', 'completed']);
    expect(cp.pendingItems('render', keys)).toEqual(['b', 'd']);
    const warning = warnings.find((event) => event.unverified) as WarningEvent;
    expect(warning.unverified).toEqual({ step: 'render', checked: 5, keys: ['b', 'd'] });
    expect(warning.message).toContain('2 of 5 completed item(s) of step "render" failed verifyCompleted ("b", "d")');
    expect(cp.getItem('render', 'b').error?.message).toMatch(/failed verifyCompleted/);
    expect(cp.getProgressSummary().steps.render).toMatchObject({ completed: 3 });
    await cp.close();

    // Written as changes: a plain reopen (no check) still has them pending.
    const again = await open({ path });
    expect(again.pendingItems('render', keys)).toEqual(['b', 'd']);
  });

  it('with every output in place changes nothing and warns nothing', async () => {
    const { path, outputs } = await renderedRun();
    const { cp, warnings } = await openHearing({ path, logger: quiet, verifyCompleted: outputExists(outputs) });
    expect(cp.pendingItems('render', keys)).toEqual([]);
    expect(warnings).toEqual([]);
    await cp.close();
  });

  it('as an object checks only the steps it names', async () => {
    const { path } = await renderedRun();
    const setup = await CheckpointManager.open({ path, logger: quiet });
    await setup.markItemCompleted('upload', 'a');
    await setup.close();
    const asked: string[] = [];
    const cp = await open({ path, verifyCompleted: { upload: (key, _result, step) => (asked.push(`${step}:${key}`), false) } });
    expect(asked).toEqual(['upload:a']);
    expect(cp.getItemStatus('upload', 'a')).toBe('pending');
    expect(cp.pendingItems('render', keys)).toEqual([]);
  });

  it('a check that throws fails the open with CheckpointVerifyError naming the step and key, changes nothing and releases the lock', async () => {
    const { path } = await renderedRun();
    const error = await CheckpointManager.open({
      path,
      logger: quiet,
      verifyCompleted: (key) => {
        if (key === 'c') throw new Error('storage bucket unreachable');
        return key !== 'a';
      },
    }).then(() => undefined, (thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(CheckpointVerifyError);
    expect((error as CheckpointVerifyError).step).toBe('render');
    expect((error as CheckpointVerifyError).key).toBe('c');
    expect((error as CheckpointVerifyError).code).toBe('VERIFY_FAILED');
    expect((error as Error).message).toContain('verifyCompleted threw for item "c" of step "render": storage bucket unreachable');
    // Opening again works (the lock was released), and "a", answered false before the throw, is still completed.
    const again = await open({ path });
    expect(again.pendingItems('render', keys)).toEqual([]);
  });

  it('a check that rejects is a CheckpointVerifyError too, and one that answers no boolean is a CheckpointArgumentError', async () => {
    const { path } = await renderedRun();
    await expect(CheckpointManager.open({ path, logger: quiet, verifyCompleted: () => Promise.reject(new Error('EIO')) })).rejects.toBeInstanceOf(CheckpointVerifyError);
    await expect(CheckpointManager.open({ path, logger: quiet, verifyCompleted: (() => undefined) as never })).rejects.toThrow(
      /Expected `verifyCompleted` to return true or false for item "a" of step "render", got `undefined`/,
    );
    await expect(CheckpointManager.open({ path, logger: quiet, verifyCompleted: 5 as never })).rejects.toBeInstanceOf(CheckpointArgumentError);
    await expect(CheckpointManager.open({ path, logger: quiet, verifyCompleted: { render: 'yes' } as never })).rejects.toThrow(/verifyCompleted/);
  });

  it('runs at most 16 async checks at a time', async () => {
    const directory = tempDir();
    const path = join(directory, 'checkpoint.json');
    const setup = await CheckpointManager.open({ path, logger: quiet });
    const many = Array.from({ length: 100 }, (_, i) => `k${i}`);
    for (const key of many) await setup.markItemCompleted('s', key);
    await setup.close();
    let running = 0;
    let most = 0;
    const cp = await open({
      path,
      verifyCompleted: async () => {
        most = Math.max(most, ++running);
        await stat(directory); // real asynchronous work
        running--;
        return true;
      },
    });
    expect(most).toBe(16);
    expect(cp.pendingItems('s', many)).toEqual([]);
  });

  it('a step a Pipeline recorded as completed is recorded pending, so that the Pipeline runs it again', async () => {
    const { path } = await renderedRun();
    const setup = await CheckpointManager.open({ path, logger: quiet });
    await setup.setStepSummary('render', { status: 'completed', endedAt: '2026-01-01T00:00:00.000Z' });
    await setup.close();
    const cp = await open({ path, verifyCompleted: (key) => key !== 'e' });
    expect(cp.getStepSummary('render')).toEqual({ status: 'pending', endedAt: '2026-01-01T00:00:00.000Z' });
  });
});

describe('verifyCompleted after a SIGKILL', () => {
  it('a job killed mid-run, an output deleted since: that item is done again, every other acknowledged one is not', async () => {
    const directory = tempDir();
    const path = join(directory, 'checkpoint.json');
    const outputs = join(directory, 'out');
    mkdirSync(outputs);
    const child = new ChildWorker(job, ['run', path, outputs, '100000']);
    await child.waitForLine((line) => line === 'DONE item-5');
    const exit = await child.kill();
    expect(exit.signal, child.stderr).toBe('SIGKILL');
    const done = child.lines.filter((line) => line.startsWith('DONE ')).map((line) => line.slice(5));
    rmSync(join(outputs, 'item-2.txt'));

    const cp = await open({ path, verifyCompleted: (key) => (statSync(join(outputs, `${key}.txt`), { throwIfNoEntry: false })?.size ?? 0) > 0 });
    expect(cp.getItemStatus('render', 'item-2')).toBe('pending');
    for (const key of done.filter((key) => key !== 'item-2')) expect(cp.getItemStatus('render', key)).toBe('completed');
  });

  it('the items made pending are on disk before open resolves: a process killed right after still has them pending', async () => {
    const directory = tempDir();
    const path = join(directory, 'checkpoint.json');
    const outputs = join(directory, 'out');
    mkdirSync(outputs);
    const first = new ChildWorker(job, ['run', path, outputs, '8']);
    await first.waitForLine((line) => line === 'FINISHED');
    await first.kill();
    rmSync(join(outputs, 'item-3.txt'));
    rmSync(join(outputs, 'item-6.txt'));

    const verifier = new ChildWorker(job, ['verify', path, outputs, '8']);
    const opened = await verifier.waitForLine((line) => line.startsWith('OPENED '));
    expect(opened).toBe('OPENED item-3,item-6');
    expect((await verifier.kill()).signal).toBe('SIGKILL');

    const cp = await open({ path });
    expect(cp.pendingItems('render', Array.from({ length: 8 }, (_, i) => `item-${i}`))).toEqual(['item-3', 'item-6']);
  });
});
