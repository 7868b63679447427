import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PipelineStepError } from '../../src/core/errors.js';
import { CheckpointManager } from '../../src/manager/checkpoint-manager.js';
import type { StepDefinition } from '../../src/pipeline/step-definition.js';
import { RecordingLogger, ScriptedPipeline, filesIn, removeTempDirs, tempDir } from './support.js';

afterEach(removeTempDirs);

type Ctx = { input: string; a?: number; b?: number; c?: number; d?: number; log?: string[] };

/** Four steps; `c` throws while `failures.c` is set. Every call is recorded in `calls`. */
function fourSteps(calls: string[], failures: { c?: boolean } = {}): () => StepDefinition<Ctx>[] {
  return () => [
    { name: 'a', run: () => (calls.push('a'), { a: 1 }) },
    {
      name: 'b',
      run: (ctx) => {
        calls.push('b');
        ctx.log = ['b changed the context in place'];
        return { b: ctx.a! + 1 };
      },
    },
    {
      name: 'c',
      run: (ctx) => {
        calls.push('c');
        if (failures.c) throw new Error('disk full while writing c');
        return { c: ctx.b! + 1 };
      },
    },
    { name: 'd', run: (ctx) => (calls.push('d'), { d: ctx.c! + 1 }) },
  ];
}

async function readSummaries(path: string, pipeline: string): Promise<Record<string, string | undefined>> {
  const cp = await CheckpointManager.open({ path, pipeline });
  try {
    return Object.fromEntries(cp.steps.map((step) => [step, cp.getStepSummary(step)?.status]));
  } finally {
    await cp.close();
  }
}

async function runIdOf(path: string): Promise<string> {
  const cp = await CheckpointManager.open({ path });
  const id = cp.runId;
  await cp.close();
  return id;
}

describe('Pipeline: failing and resuming', () => {
  it('fails at step 3, keeps the checkpoint, and resumes at step 3 with the context restored', async () => {
    const dir = tempDir();
    const path = join(dir, '.checkpoint.json');
    const calls: string[] = [];
    const failures = { c: true };
    const logger = new RecordingLogger();
    const first = new ScriptedPipeline<Ctx>('four', fourSteps(calls, failures), { path, logger });

    const error = await first.run({ input: 'x' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PipelineStepError);
    expect((error as PipelineStepError).step).toBe('c');
    expect((error as PipelineStepError).message).toContain('step "c" failed: disk full while writing c');
    expect(((error as PipelineStepError).cause as Error).message).toBe('disk full while writing c');
    expect(calls).toEqual(['a', 'b', 'c']);
    expect(existsSync(path)).toBe(true);
    expect(await readSummaries(path, 'four')).toEqual({ a: 'completed', b: 'completed', c: 'failed', d: 'pending' });

    failures.c = false;
    calls.length = 0;
    const second = new ScriptedPipeline<Ctx>('four', fourSteps(calls, failures), { path, logger });
    const result = await second.run({ input: 'x' });
    expect(calls).toEqual(['c', 'd']);
    expect(result.resumedFromCheckpoint).toBe(true);
    expect(result.skippedSteps).toEqual(['a', 'b']);
    expect(result.completedSteps).toEqual(['c', 'd']);
    expect(result.context).toEqual({ input: 'x', a: 1, b: 2, c: 3, d: 4, log: ['b changed the context in place'] });
    expect(result.steps.c).toMatchObject({ status: 'completed', attempts: 2 });
    expect(result.steps.a).toMatchObject({ status: 'completed', attempts: 1, result: { a: 1 } });
    expect(result.plan.map((entry) => `${entry.step}:${entry.action}`)).toEqual(['a:skip', 'b:skip', 'c:run', 'd:run']);
    expect(result.plan[2]!.reason).toBe('failed in an earlier run');
    expect(logger.lines.some((line) => line.includes('skipping step "a" (completed in an earlier run)'))).toBe(true);
    expect(result.checkpointKept).toBe(false);
    expect(filesIn(dir)).toEqual([]);
  });

  it('records times, attempts and the metadata a step sets', async () => {
    const dir = tempDir();
    const result = await new ScriptedPipeline<{ n?: number }>('meta', () => [
      {
        name: 'count',
        description: 'counts things',
        group: 'g',
        version: 3,
        run: (_ctx, step) => {
          step.setMetadata({ counted: 42 });
          step.metadata.source = 'unit test';
          return { n: 42 };
        },
      },
    ], { path: join(dir, 'c.json'), logger: new RecordingLogger() }).run();
    const summary = result.steps.count!;
    expect(summary).toMatchObject({ status: 'completed', attempts: 1, description: 'counts things', group: 'g', version: 3 });
    expect(summary.metadata).toEqual({ counted: 42, source: 'unit test' });
    expect(Date.parse(summary.endedAt!)).toBeGreaterThanOrEqual(Date.parse(summary.startedAt!));
    expect(summary.durationMs).toBeGreaterThanOrEqual(0);
    expect(result.context).toEqual({ n: 42 });
  });

  it('resumes a step that died half-way through its items at the first unfinished item', async () => {
    const dir = tempDir();
    const path = join(dir, 'items.yaml');
    const frames = Array.from({ length: 10 }, (_, i) => `frame-${i}`);
    const processed: string[] = [];
    let dieAt: string | undefined = 'frame-6';
    const steps = (): StepDefinition<{ frames?: number; extracted?: number }>[] => [
      { name: 'download', run: () => (processed.push('download'), { frames: frames.length }) },
      {
        name: 'extract',
        run: async (_ctx, step) => {
          const todo = step.pendingItems(frames);
          step.setMetadata({ skipped: frames.length - todo.length });
          for (const frame of todo) {
            if (frame === dieAt) throw new Error(`decoder crashed on ${frame}`);
            await step.markItemInProgress(frame);
            processed.push(frame);
            await step.markItemCompleted(frame);
          }
          return { extracted: frames.filter((frame) => step.isItemCompleted(frame)).length };
        },
      },
    ];
    const logger = new RecordingLogger();
    await expect(new ScriptedPipeline('video', steps, { path, logger }).run()).rejects.toThrow(/step "extract" failed: decoder crashed on frame-6/);
    expect(processed).toEqual(['download', ...frames.slice(0, 6)]);

    dieAt = undefined;
    processed.length = 0;
    const result = await new ScriptedPipeline('video', steps, { path, logger }).run();
    expect(processed).toEqual(frames.slice(6));
    expect(result.context).toEqual({ frames: 10, extracted: 10 });
    expect(result.steps.extract!.metadata).toEqual({ skipped: 6 });
    expect(existsSync(path)).toBe(false);
  });
  it('resumes the items of a step that uses step.forEach', async () => {
    const path = join(tempDir(), 'for-each.json');
    const pages = Array.from({ length: 10 }, (_, i) => i);
    const processed: number[] = [];
    let brokenPage: number | undefined = 4;
    const steps = (): StepDefinition<{ pages?: number }>[] => [
      {
        name: 'scan',
        run: async (_ctx, step) => {
          const report = await step.forEach(pages, (page) => {
            if (page === brokenPage) throw new Error(`page ${page} is torn`);
            processed.push(page);
          }, { failFast: true, handleSignals: false });
          step.setMetadata({ completed: report.completed, skipped: report.skipped });
          return { pages: pages.length };
        },
      },
    ];
    const logger = new RecordingLogger();
    await expect(new ScriptedPipeline('scan', steps, { path, logger }).run()).rejects.toThrow(/step "scan" failed: page 4 is torn/);
    expect(processed).toEqual([0, 1, 2, 3]);
    brokenPage = undefined;
    const result = await new ScriptedPipeline('scan', steps, { path, logger }).run();
    expect(processed).toEqual(pages);
    expect(result.steps.scan!.metadata).toEqual({ completed: 6, skipped: 4 });
  });
});

describe('Pipeline: which steps run', () => {
  it('re-runs every step of a group when one of them did not complete, discarding their items', async () => {
    const dir = tempDir();
    const path = join(dir, 'group.json');
    const calls: string[] = [];
    const seenDone: boolean[] = [];
    let prepareFails = true;
    const steps = (): StepDefinition<{ repo?: string; prepared?: boolean; worked?: boolean }>[] => [
      {
        name: 'pull',
        group: 'pre',
        run: async (_ctx, step) => {
          calls.push('pull');
          seenDone.push(step.isItemCompleted('repo'));
          await step.markItemCompleted('repo');
          return { repo: 'checked out' };
        },
      },
      {
        name: 'prepare',
        group: 'pre',
        run: () => {
          calls.push('prepare');
          if (prepareFails) throw new Error('preparation failed');
          return { prepared: true };
        },
      },
      { name: 'work', run: () => (calls.push('work'), { worked: true }) },
    ];
    const logger = new RecordingLogger();
    await expect(new ScriptedPipeline('grouped', steps, { path, logger }).run()).rejects.toBeInstanceOf(PipelineStepError);
    prepareFails = false;
    const result = await new ScriptedPipeline('grouped', steps, { path, logger }).run();
    expect(calls).toEqual(['pull', 'prepare', 'pull', 'prepare', 'work']);
    expect(seenDone).toEqual([false, false]);
    expect(result.plan[0]).toEqual({ step: 'pull', action: 'run', reason: 'group "pre" runs again together: step "prepare" did not complete' });
    expect(result.steps.pull!.attempts).toBe(1);
    expect(logger.lines.some((line) => line.includes('step "pull": group "pre" runs again together') && line.includes('discarding its 1 completed item(s)'))).toBe(true);
    expect(result.context).toEqual({ repo: 'checked out', prepared: true, worked: true });
  });

  it('runs a slice with `to`, keeps the checkpoint, and finishes it later with `from`', async () => {
    const dir = tempDir();
    const path = join(dir, 'slice.json');
    const calls: string[] = [];
    const logger = new RecordingLogger();
    const pipeline = new ScriptedPipeline<Ctx>('four', fourSteps(calls), { path, logger });

    const head = await pipeline.run({ input: 'x' }, { to: 'b' });
    expect(calls).toEqual(['a', 'b']);
    expect(head.completedSteps).toEqual(['a', 'b']);
    expect(head.skippedSteps).toEqual(['c', 'd']);
    expect(head.plan[2]).toEqual({ step: 'c', action: 'skip', reason: 'after `to` ("b")' });
    expect(head.checkpointKept).toBe(true);
    expect(existsSync(path)).toBe(true);

    const tail = await pipeline.run({ input: 'x' }, { from: 'c' });
    expect(calls).toEqual(['a', 'b', 'c', 'd']);
    expect(tail.resumedFromCheckpoint).toBe(true);
    expect(tail.context).toMatchObject({ a: 1, b: 2, c: 3, d: 4 });
    expect(tail.checkpointKept).toBe(false);
    expect(filesIn(dir)).toEqual([]);
  });

  it('with `from` on a new checkpoint skips the earlier steps and keeps the checkpoint, as they never ran', async () => {
    const dir = tempDir();
    const path = join(dir, 'from.json');
    const calls: string[] = [];
    const steps = (): StepDefinition<{ input: string; d?: string }>[] => [
      { name: 'a', run: () => void calls.push('a') },
      { name: 'b', run: (ctx) => (calls.push('b'), { d: `${ctx.input}!` }) },
    ];
    const result = await new ScriptedPipeline('from', steps, { path, logger: new RecordingLogger() }).run({ input: 'hi' }, { from: 'b' });
    expect(calls).toEqual(['b']);
    expect(result.plan[0]).toEqual({ step: 'a', action: 'skip', reason: 'before `from` ("b")' });
    expect(result.steps.a!.status).toBe('pending');
    expect(result.checkpointKept).toBe(true);
    expect(existsSync(path)).toBe(true);
  });

  it('refuses `from` / `to` that name no step or come in the wrong order', async () => {
    const pipeline = new ScriptedPipeline<Ctx>('four', fourSteps([]), { path: join(tempDir(), 'x.json') });
    await expect(pipeline.run({ input: 'x' }, { from: 'zz' })).rejects.toThrow('Expected `from` to be one of the steps "a", "b", "c", "d", got `"zz"` (string)');
    await expect(pipeline.run({ input: 'x' }, { from: 'c', to: 'b' })).rejects.toThrow('Expected `from` ("c") to come before `to` ("b")');
  });

  it('with `force` ignores and replaces the checkpoint: every step runs again under a new run id', async () => {
    const dir = tempDir();
    const path = join(dir, 'force.json');
    const calls: string[] = [];
    const logger = new RecordingLogger();
    const failing = new ScriptedPipeline<Ctx>('four', fourSteps(calls, { c: true }), { path, logger });
    await expect(failing.run({ input: 'x' })).rejects.toBeInstanceOf(PipelineStepError);
    const failedRunId = await runIdOf(path);
    calls.length = 0;
    const result = await new ScriptedPipeline<Ctx>('four', fourSteps(calls), { path, logger }).run({ input: 'x' }, { force: true });
    expect(calls).toEqual(['a', 'b', 'c', 'd']);
    expect(result.resumedFromCheckpoint).toBe(false);
    expect(result.runId).not.toBe(failedRunId);
    expect(result.steps.c!.attempts).toBe(1);
    expect(filesIn(dir)).toEqual([]);
  });

  it('with `dryRun` reports the plan without running a step or changing the checkpoint', async () => {
    const dir = tempDir();
    const path = join(dir, 'dry.json');
    const calls: string[] = [];
    const logger = new RecordingLogger();
    const fresh = await new ScriptedPipeline<Ctx>('four', fourSteps(calls), { path, logger }).run({ input: 'x' }, { dryRun: true });
    expect(fresh.plan.every((entry) => entry.action === 'run' && entry.reason === 'not run yet')).toBe(true);
    expect(fresh.dryRun).toBe(true);
    expect(filesIn(dir)).toEqual([]);

    await new ScriptedPipeline<Ctx>('four', fourSteps(calls, { c: true }), { path, logger }).run({ input: 'x' }).catch(() => {});
    const before = await readSummaries(path, 'four');
    calls.length = 0;
    const dry = await new ScriptedPipeline<Ctx>('four', fourSteps(calls), { path, logger }).run({ input: 'x' }, { dryRun: true });
    expect(calls).toEqual([]);
    expect(dry.plan).toEqual([
      { step: 'a', action: 'skip', reason: 'completed in an earlier run' },
      { step: 'b', action: 'skip', reason: 'completed in an earlier run' },
      { step: 'c', action: 'run', reason: 'failed in an earlier run' },
      { step: 'd', action: 'run', reason: 'not run yet' },
    ]);
    expect(dry.resumedFromCheckpoint).toBe(true);
    expect(dry.context).toMatchObject({ a: 1, b: 2 });
    expect(dry.checkpointKept).toBe(true);
    expect(await readSummaries(path, 'four')).toEqual(before);
  });

  it('with `resume: false` runs everything without reading or writing a checkpoint', async () => {
    const dir = tempDir();
    const path = join(dir, 'none.json');
    const calls: string[] = [];
    const logger = new RecordingLogger();
    await new ScriptedPipeline<Ctx>('four', fourSteps(calls, { c: true }), { path, logger }).run({ input: 'x' }).catch(() => {});
    const before = await readSummaries(path, 'four');
    calls.length = 0;
    const result = await new ScriptedPipeline<Ctx>('four', fourSteps(calls), { path, logger }).run({ input: 'x' }, { resume: false });
    expect(calls).toEqual(['a', 'b', 'c', 'd']);
    expect(result.location).toBeUndefined();
    expect(result.resumedFromCheckpoint).toBe(false);
    expect(await readSummaries(path, 'four')).toEqual(before);
  });
});
