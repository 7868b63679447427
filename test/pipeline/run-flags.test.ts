import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CheckpointAbortError, CheckpointArgumentError } from '../../src/core/errors.js';
import { parseCheckpointFlags } from '../../src/flags/parse-checkpoint-flags.js';
import { fakeTerminal } from '../support/fake-terminal.js';
import { CheckpointManager } from '../../src/manager/checkpoint-manager.js';
import { threeSteps, type ThreeCtx } from './children/three-steps.js';
import { RecordingLogger, ScriptedPipeline, failedRun, filesIn, removeTempDirs, tempDir } from './support.js';

afterEach(removeTempDirs);

type Ctx = ThreeCtx;

const QUESTION = /A checkpoint exists for three \(2 items done, updated \d+s ago\)\. Resume \(r\) \/ start over \(s\) \/ quit \(q\)\?/;

describe('Pipeline.run with the result of parseCheckpointFlags', () => {
  it('takes the flags as they are: --force-restart and --reset-checkpoint start over, --no-checkpoint leaves the file alone', async () => {
    const dir = tempDir();
    const path = join(dir, 'flags.json');
    for (const flag of ['--force-restart', '--reset-checkpoint']) {
      const failedRunId = await failedRun(path);
      const calls: string[] = [];
      const result = await new ScriptedPipeline<Ctx>('three', threeSteps(calls), { path, logger: new RecordingLogger() }).run({}, parseCheckpointFlags([flag, 'extra']));
      expect(calls).toEqual(['a', 'b', 'c']);
      expect(result.runId).not.toBe(failedRunId);
      expect(result.resumedFromCheckpoint).toBe(false);
      expect(filesIn(dir)).toEqual([]);
    }
    await failedRun(path);
    const before = filesIn(dir);
    const calls: string[] = [];
    const result = await new ScriptedPipeline<Ctx>('three', threeSteps(calls), { path, logger: new RecordingLogger() }).run({}, parseCheckpointFlags(['--no-checkpoint']));
    expect(calls).toEqual(['a', 'b', 'c']);
    expect(result.location).toBeUndefined();
    expect(filesIn(dir)).toEqual(before);
    const resumed = await new ScriptedPipeline<Ctx>('three', threeSteps(calls), { path, logger: new RecordingLogger() }).run({}, parseCheckpointFlags(['--resume']));
    expect(resumed.resumedFromCheckpoint).toBe(true);
  });

  it('refuses flag fields that contradict each other or are not what the flags give', async () => {
    const pipeline = new ScriptedPipeline<Ctx>('three', threeSteps([]), { path: join(tempDir(), 'x.json') });
    await expect(pipeline.run({}, { resume: true, noCheckpoint: true })).rejects.toThrow('Expected either `resume: true` or `noCheckpoint: true`, got both');
    await expect(pipeline.run({}, { rest: 'x' as never })).rejects.toThrow('Expected `rest` to be an array of strings');
    await expect(pipeline.run({}, { prompt: 'yes' as never })).rejects.toThrow(CheckpointArgumentError);
    await expect(pipeline.run({}, { prompt: 'Auto' as never })).rejects.toThrow("did you mean 'auto'?");
  });
});

describe('Pipeline.run with `prompt`: asking before resuming a checkpoint', () => {
  it('r resumes: the steps done before are skipped', async () => {
    const path = join(tempDir(), 'r.json');
    const runId = await failedRun(path);
    const terminal = fakeTerminal();
    const calls: string[] = [];
    const running = new ScriptedPipeline<Ctx>('three', threeSteps(calls), { path, logger: new RecordingLogger() }).run({}, { prompt: terminal });
    await terminal.waitFor('quit (q)?');
    expect(terminal.written()).toMatch(QUESTION);
    expect(calls).toEqual([]); // nothing runs before the answer
    terminal.type('what');
    await terminal.waitFor('Please answer r (resume), s (start over) or q (quit)');
    terminal.type('R');
    const result = await running;
    expect(calls).toEqual(['b', 'c']);
    expect(result.runId).toBe(runId);
    expect(result.resumedFromCheckpoint).toBe(true);
  });

  it('s starts over under a new run id, as with force', async () => {
    const dir = tempDir();
    const path = join(dir, 's.json');
    const runId = await failedRun(path);
    const terminal = fakeTerminal();
    const calls: string[] = [];
    const running = new ScriptedPipeline<Ctx>('three', threeSteps(calls), { path, logger: new RecordingLogger() }).run({}, { prompt: terminal });
    await terminal.waitFor('quit (q)?');
    terminal.type('s');
    const result = await running;
    expect(calls).toEqual(['a', 'b', 'c']);
    expect(result.runId).not.toBe(runId);
    expect(result.resumedFromCheckpoint).toBe(false);
    expect(filesIn(dir)).toEqual([]);
  });

  it('q, Ctrl+C and the end of input quit with a CheckpointAbortError and leave the checkpoint as it was', async () => {
    const path = join(tempDir(), 'q.json');
    const runId = await failedRun(path);
    for (const answer of ['q', '\u0003', 'end']) {
      const terminal = fakeTerminal();
      const calls: string[] = [];
      const running = new ScriptedPipeline<Ctx>('three', threeSteps(calls), { path, logger: new RecordingLogger() }).run({}, { prompt: terminal });
      await terminal.waitFor('quit (q)?');
      if (answer === 'end') terminal.input.end();
      else if (answer === 'q') terminal.type(answer);
      else terminal.input.write(answer);
      const error = await running.then(() => undefined, (thrown: unknown) => thrown);
      expect(error, answer).toBeInstanceOf(CheckpointAbortError);
      expect((error as Error).message).toContain('three: quit at the prompt; the checkpoint is kept');
      expect(calls).toEqual([]);
      // The lock was released and nothing changed: the next run resumes the same run.
      const cp = await CheckpointManager.open({ path, pipeline: 'three' });
      expect(cp.runId).toBe(runId);
      expect(cp.getProgressSummary().steps.a!.completed).toBe(1);
      await cp.close();
    }
    process.exitCode = 0; // a quit marks the process as interrupted (exit code 75)
  });

  it('never asks when the streams are not terminals, with force or resume: false, or when there is nothing to resume', async () => {
    const path = join(tempDir(), 'never.json');
    const runId = await failedRun(path);
    const piped = fakeTerminal(false);
    const calls: string[] = [];
    const result = await new ScriptedPipeline<Ctx>('three', threeSteps(calls), { path, logger: new RecordingLogger() }).run({}, { prompt: piped });
    expect(result.runId).toBe(runId);
    expect(calls).toEqual(['b', 'c']);
    expect(piped.written()).toBe('');

    for (const options of [{ force: true }, { resume: false }]) {
      await failedRun(path);
      const terminal = fakeTerminal();
      const ran: string[] = [];
      await new ScriptedPipeline<Ctx>('three', threeSteps(ran), { path, logger: new RecordingLogger() }).run({}, { ...options, prompt: terminal });
      expect(ran).toEqual(['a', 'b', 'c']);
      expect(terminal.written()).toBe('');
    }

    const fresh = fakeTerminal();
    const ran: string[] = [];
    await new ScriptedPipeline<Ctx>('three', threeSteps(ran), { path: join(tempDir(), 'new.json'), logger: new RecordingLogger() }).run({}, { prompt: fresh });
    expect(ran).toEqual(['a', 'b', 'c']);
    expect(fresh.written()).toBe('');
  });
});
