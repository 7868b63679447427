import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CheckpointArgumentError, CheckpointManager, type CheckpointOptions, type WarningEvent } from '../../src/index.js';

const quiet = { warn: () => {}, error: () => {} };

/** A checkpoint in a fresh temp directory, with the warnings it emits collected. */
async function open(options: Partial<CheckpointOptions> = {}) {
  const directory = mkdtempSync(join(tmpdir(), 'checkpointer-complete-'));
  const path = join(directory, 'checkpoint.json');
  const warnings: WarningEvent[] = [];
  const cp = await CheckpointManager.open({ path, logger: quiet, ...options, on: { warning: (event) => warnings.push(event) } });
  const reopen = () => CheckpointManager.open({ path, logger: quiet });
  return { cp, path, directory, warnings, reopen };
}

describe('complete()', () => {
  it('keeps the checkpoint when an item failed, warns what is left, and the next run retries it', async () => {
    const { cp, path, warnings, reopen } = await open();
    await cp.markItemCompleted('enrich', 'a');
    await cp.markItemInProgress('enrich', 'b');
    await cp.markItemFailed('enrich', 'b', new Error('timeout'));
    await cp.markItemCompleted('tag', 'a');

    const result = await cp.complete();
    expect(result).toEqual({ removed: false, left: { failed: 1, inProgress: 0, deadLetters: 0, handedBack: 0, steps: { enrich: { failed: 1, inProgress: 0, deadLetters: 0, handedBack: 0 } } } });
    expect(cp.closed).toBe(true);
    expect(existsSync(path)).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toContain(path);
    expect(warnings[0]!.message).toContain('step "enrich": 1 failed');
    expect(warnings[0]!.message).toContain('run again to retry the failed item');
    expect(warnings[0]!.message).toContain('complete({ force: true })');
    expect(warnings[0]!.message).not.toContain('"tag"');

    const next = await reopen();
    expect(next.runId).toBe(cp.runId);
    expect(next.isItemCompleted('enrich', 'a')).toBe(true);
    expect(next.pendingItems('enrich', ['a', 'b'])).toEqual(['b']);
    await next.markItemCompleted('enrich', 'b');
    expect(await next.complete()).toEqual({ removed: true, left: { failed: 0, inProgress: 0, deadLetters: 0, handedBack: 0, steps: {} } });
    expect(existsSync(path)).toBe(false);
  });

  it('keeps the checkpoint when an item is still in progress', async () => {
    const { cp, path, warnings, reopen } = await open();
    await cp.markItemCompleted('enrich', 'a');
    await cp.markItemInProgress('enrich', 'b');

    const result = await cp.complete();
    expect(result.removed).toBe(false);
    expect(result.left).toMatchObject({ failed: 0, inProgress: 1, deadLetters: 0 });
    expect(existsSync(path)).toBe(true);
    expect(warnings.map((warning) => warning.message).join('\n')).toContain('step "enrich": 1 in progress');

    // Reopened, the interrupted item is pending again, and still counts as left.
    const next = await reopen();
    expect(next.getItemStatus('enrich', 'b')).toBe('pending');
    expect((await next.complete()).left.inProgress).toBe(1);
    expect(existsSync(path)).toBe(true);
  });

  it('keeps the checkpoint when a dead letter is left, pointing at retry-failed', async () => {
    const { cp, path, warnings } = await open({ maxAttempts: 1 });
    await cp.markItemInProgress('enrich', 'a');
    await cp.markItemFailed('enrich', 'a', new Error('bad input'));
    expect(cp.getItemStatus('enrich', 'a')).toBe('dead_letter');

    const result = await cp.complete();
    expect(result).toEqual({ removed: false, left: { failed: 0, inProgress: 0, deadLetters: 1, handedBack: 0, steps: { enrich: { failed: 0, inProgress: 0, deadLetters: 1, handedBack: 0 } } } });
    expect(existsSync(path)).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.message).toContain('1 dead letter');
    expect(warnings[0]!.message).toContain(`"npx checkpoint-resume retry-failed ${path}" to make the dead-letter item pending again`);
    expect(warnings[0]!.message).not.toContain('run again to retry');
  });

  it('removes the checkpoint, its journal, backups and lock when nothing is left', async () => {
    const { cp, path, directory, warnings } = await open();
    await cp.markItemInProgress('enrich', 'a');
    await cp.markItemFailed('enrich', 'a', new Error('once'));
    await cp.markItemCompleted('enrich', 'a'); // retried and done: nothing left
    await cp.markStageCompleted('download');
    expect(existsSync(path)).toBe(true);

    expect(await cp.complete()).toEqual({ removed: true, left: { failed: 0, inProgress: 0, deadLetters: 0, handedBack: 0, steps: {} } });
    expect(readdirSync(directory)).toEqual([]);
    expect(warnings).toEqual([]);
    await expect(cp.complete()).rejects.toMatchObject({ code: 'CHECKPOINT_CLOSED' });
  });

  it('force: true removes the checkpoint whatever is left, without a warning', async () => {
    const { cp, directory, warnings, reopen } = await open();
    await cp.markItemCompleted('enrich', 'a');
    await cp.markItemFailed('enrich', 'b', new Error('boom'));
    await cp.markItemInProgress('enrich', 'c');

    const result = await cp.complete({ force: true });
    expect(result).toEqual({ removed: true, left: { failed: 1, inProgress: 1, deadLetters: 0, handedBack: 0, steps: { enrich: { failed: 1, inProgress: 1, deadLetters: 0, handedBack: 0 } } } });
    expect(readdirSync(directory)).toEqual([]);
    expect(warnings).toEqual([]);
    const next = await reopen();
    expect(next.runId).not.toBe(cp.runId);
    expect(next.isItemCompleted('enrich', 'a')).toBe(false);
    await next.close();
  });

  it('keepOnComplete keeps the checkpoint, with force too, and does not warn', async () => {
    const { cp, path, warnings, reopen } = await open({ keepOnComplete: true });
    await cp.markItemFailed('enrich', 'b', new Error('boom'));
    expect(await cp.complete({ force: true })).toMatchObject({ removed: false, left: { failed: 1 } });
    expect(existsSync(path)).toBe(true);
    expect(warnings).toEqual([]);
    const next = await reopen();
    expect(next.runId).toBe(cp.runId);
    await next.close();
  });

  it.each([
    [null, 'Expected the options of complete() to be an object, got `null` (null)'],
    ['force', 'Expected the options of complete() to be an object, got `"force"` (string)'],
    [[true], 'Expected the options of complete() to be an object, got `true` (array)'],
    [{ forse: true }, 'Unknown option `forse` for complete() — did you mean `force`?'],
    [{ force: 'yes' }, 'Expected `force` to be a boolean, got `"yes"` (string)'],
    [{ force: 1 }, 'Expected `force` to be a boolean, got `1` (number)'],
  ])('rejects %j with CheckpointArgumentError and leaves the checkpoint open', async (argument, message) => {
    const { cp, path } = await open();
    await cp.markItemCompleted('enrich', 'a');
    const error: unknown = await cp.complete(argument as never).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(CheckpointArgumentError);
    expect((error as Error).message).toBe(message);
    expect(cp.closed).toBe(false);
    expect(existsSync(path)).toBe(true);
    expect((await cp.complete()).removed).toBe(true);
    expect(existsSync(path)).toBe(false);
  });
});
