import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CheckpointAbortError } from '../../src/core/errors.js';
import { confirmResume, resumeQuestion } from '../../src/flags/confirm-resume.js';
import { parseCheckpointFlags } from '../../src/flags/parse-checkpoint-flags.js';
import { CheckpointManager } from '../../src/manager/checkpoint-manager.js';
import { MemoryStore } from '../../src/stores/memory-store.js';
import { fakeTerminal } from '../support/fake-terminal.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  process.exitCode = 0; // a quit marks the process as interrupted (exit code 75)
});

function checkpointPath(): string {
  const dir = mkdtempSync(join(tmpdir(), 'checkpointer-confirm-'));
  dirs.push(dir);
  return join(dir, 'loop.json');
}

describe('confirmResume: the prompt for your own loop', () => {
  it('asks about a checkpoint with progress; "start over" is the caller\'s to carry out with resetAll', async () => {
    const path = checkpointPath();
    const first = await CheckpointManager.open({ path, pipeline: 'enrich' });
    await first.markItemCompleted('enrich', 'doc-1');
    await first.close();

    // As the docs show it: the flags decide, or the user does.
    const flags = parseCheckpointFlags([]);
    const cp = await CheckpointManager.open({ path, pipeline: 'enrich' });
    const terminal = fakeTerminal();
    const answer = flags.prompt ? confirmResume(cp, terminal) : Promise.resolve('resume');
    await terminal.waitFor('quit (q)?');
    expect(terminal.written()).toMatch(/A checkpoint exists for enrich \(1 item done, updated \d+s ago\)\. Resume \(r\) \/ start over \(s\) \/ quit \(q\)\? /);
    terminal.type('start over');
    expect(await answer).toBe('restart');
    await cp.resetAll();
    expect(cp.isItemCompleted('enrich', 'doc-1')).toBe(false);
    await cp.close();
  });

  it('resolves resume at once, writing nothing, for a checkpoint without progress or streams that are not terminals', async () => {
    const fresh = await CheckpointManager.open({ store: new MemoryStore() });
    const terminal = fakeTerminal();
    expect(await confirmResume(fresh, terminal)).toBe('resume');
    expect(terminal.written()).toBe('');

    await fresh.increment('cost', 1); // a counter is progress too
    const piped = fakeTerminal(false);
    expect(await confirmResume(fresh, piped)).toBe('resume');
    expect(piped.written()).toBe('');
    const halfTerminal = { input: fakeTerminal().input, output: fakeTerminal(false).output };
    expect(await confirmResume(fresh, halfTerminal)).toBe('resume');

    const asking = confirmResume(fresh, terminal);
    await terminal.waitFor('quit (q)?');
    terminal.type('quit');
    const error = await asking.then(() => undefined, (thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(CheckpointAbortError);
    expect((error as Error).message).toContain(': quit at the prompt; the checkpoint is kept');
    expect(process.exitCode).toBe(75);
    await fresh.close();
  });

  it('says how long ago the checkpoint was updated, and names it by its location without a pipeline name', async () => {
    const path = checkpointPath();
    const cp = await CheckpointManager.open({ path });
    await cp.markItemCompleted('a', 'x');
    await cp.markItemCompleted('b', 'y');
    const updated = Date.parse(cp.getProgressSummary().updatedAt);
    expect(resumeQuestion(cp, updated + 185_000)).toBe(`A checkpoint exists for ${path} (2 items done, updated 3m 05s ago). Resume (r) / start over (s) / quit (q)?`);
    await cp.close();
  });
});
