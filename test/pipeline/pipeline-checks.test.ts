import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CheckpointAbortError, CheckpointArgumentError, CheckpointCorruptError, CheckpointMismatchError, PipelineStepError } from '../../src/core/errors.js';
import type { JsonObject } from '../../src/core/json.js';
import type { StepSummary } from '../../src/core/model.js';
import { CheckpointManager } from '../../src/manager/checkpoint-manager.js';
import { Pipeline } from '../../src/pipeline/pipeline.js';
import { MemoryStore } from '../../src/stores/memory-store.js';
import type { StepDefinition } from '../../src/pipeline/step-definition.js';
import { RecordingLogger, ScriptedPipeline, filesIn, removeTempDirs, tempDir } from './support.js';

afterEach(removeTempDirs);

type Ctx = { a?: number; b?: number; c?: number };

function threeSteps(names: [string, string, string], failLast: { value: boolean }): () => StepDefinition<Ctx>[] {
  return () => [
    { name: names[0], run: () => ({ a: 1 }) },
    { name: names[1], run: () => ({ b: 2 }) },
    {
      name: names[2],
      run: () => {
        if (failLast.value) throw new Error('not yet');
        return { c: 3 };
      },
    },
  ];
}

describe('Pipeline: a checkpoint that no longer matches', () => {
  it('refuses a changed step list, naming the difference, unless `force`', async () => {
    const path = join(tempDir(), 'steps.json');
    const logger = new RecordingLogger();
    await expect(new ScriptedPipeline('p', threeSteps(['a', 'b', 'c'], { value: true }), { path, logger }).run()).rejects.toBeInstanceOf(PipelineStepError);

    const renamed = new ScriptedPipeline('p', threeSteps(['a', 'b2', 'c'], { value: false }), { path, logger });
    const error = await renamed.run().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CheckpointMismatchError);
    expect((error as CheckpointMismatchError).kind).toBe('steps');
    expect((error as CheckpointMismatchError).expected).toEqual(['a', 'b2', 'c']);
    expect((error as CheckpointMismatchError).actual).toEqual(['a', 'b', 'c']);
    expect((error as Error).message).toContain('not in the checkpoint: ["b2"]; no longer in the pipeline: ["b"]');
    expect((error as Error).message).toContain('{ force: true }');
    expect(existsSync(path)).toBe(true);

    const forced = await renamed.run({}, { force: true });
    expect(forced.completedSteps).toEqual(['a', 'b2', 'c']);
  });

  it('takes over a checkpoint where nothing ran yet, forgetting the steps the pipeline no longer has', async () => {
    const path = join(tempDir(), 'untouched.json');
    const cp = await CheckpointManager.open({ path, pipeline: 'p' });
    await cp.setStepSummary('a', { status: 'pending' });
    await cp.setStepSummary('old', { status: 'pending' });
    await cp.close();
    const failLast = { value: true };
    const steps = (): StepDefinition<Ctx>[] => threeSteps(['a', 'b', 'c'], failLast)();
    const logger = new RecordingLogger();
    await expect(new ScriptedPipeline('p', steps, { path, logger }).run()).rejects.toThrow('not yet');
    failLast.value = false;
    const result = await new ScriptedPipeline('p', steps, { path, logger }).run();
    expect(result.skippedSteps).toEqual(['a', 'b']);
    expect(Object.keys(result.steps)).toEqual(['a', 'b', 'c']);
  });

  it('refuses a checkpoint of another pipeline, unless `force`', async () => {
    const path = join(tempDir(), 'name.json');
    const logger = new RecordingLogger();
    await expect(new ScriptedPipeline('first', threeSteps(['a', 'b', 'c'], { value: true }), { path, logger }).run()).rejects.toBeInstanceOf(PipelineStepError);
    const other = new ScriptedPipeline('second', threeSteps(['a', 'b', 'c'], { value: false }), { path, logger });
    const error = await other.run().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CheckpointMismatchError);
    expect((error as CheckpointMismatchError).kind).toBe('pipeline');
    expect((await other.run({}, { force: true })).completedSteps).toEqual(['a', 'b', 'c']);
  });
  it('refuses a damaged checkpoint, and with `force` moves it aside and starts over', async () => {
    const dir = tempDir();
    const path = join(dir, 'damaged.json');
    writeFileSync(path, '{"version": 1, "metadata": ');
    const pipeline = new ScriptedPipeline('p', threeSteps(['a', 'b', 'c'], { value: false }), { path, logger: new RecordingLogger() });
    await expect(pipeline.run()).rejects.toBeInstanceOf(CheckpointCorruptError);
    const result = await pipeline.run({}, { force: true });
    expect(result.completedSteps).toEqual(['a', 'b', 'c']);
    expect(filesIn(dir).some((file) => file.startsWith('damaged.json.corrupt-'))).toBe(true);
    expect(filesIn(dir)).not.toContain('damaged.json');
  });

  it('resumes and forces with a store given as an object (MemoryStore)', async () => {
    const store = new MemoryStore();
    const failLast = { value: true };
    const calls: string[] = [];
    const pipeline = new ScriptedPipeline<Ctx>('mem', () => threeSteps(['a', 'b', 'c'], failLast)().map((step) => ({
      ...step,
      run: (ctx: Ctx, handle: Parameters<typeof step.run>[1]) => (calls.push(step.name), step.run(ctx, handle)),
    })), { store, logger: new RecordingLogger() });
    await expect(pipeline.run()).rejects.toBeInstanceOf(PipelineStepError);
    await expect(pipeline.run({}, { force: true })).rejects.toBeInstanceOf(PipelineStepError);
    failLast.value = false;
    const result = await pipeline.run();
    expect(calls).toEqual(['a', 'b', 'c', 'a', 'b', 'c', 'c']);
    expect(result.context).toEqual({ a: 1, b: 2, c: 3 });
    expect((await pipeline.run()).resumedFromCheckpoint).toBe(false);
  });
});

describe('Pipeline: step versions', () => {
  it('discards the completed items and memoised result of a step whose version changed, and says why', async () => {
    const path = join(tempDir(), 'version.json');
    const items = ['x', 'y', 'z'];
    const done: string[] = [];
    const failTrain = { value: true };
    const steps = (version: number) => (): StepDefinition<{ features?: number; version?: number; model?: string }>[] => [
      { name: 'load', run: () => (done.push('load'), {}) },
      {
        name: 'featurise',
        version,
        run: async (_ctx, step) => {
          for (const item of step.pendingItems(items)) {
            done.push(`v${version}:${item}`);
            await step.markItemCompleted(item);
          }
          return { features: items.length, version };
        },
      },
      {
        name: 'train',
        run: () => {
          if (failTrain.value) throw new Error('GPU lost');
          return { model: 'ok' };
        },
      },
    ];
    const logger = new RecordingLogger();
    await expect(new ScriptedPipeline('versions', steps(1), { path, logger }).run()).rejects.toThrow('GPU lost');
    failTrain.value = false;
    done.length = 0;

    const result = await new ScriptedPipeline('versions', steps(2), { path, logger }).run();
    expect(done).toEqual(['v2:x', 'v2:y', 'v2:z']);
    expect(result.plan[1]).toEqual({ step: 'featurise', action: 'run', reason: 'version changed (1 → 2)' });
    expect(result.steps.featurise).toMatchObject({ status: 'completed', version: 2, result: { features: 3, version: 2 } });
    expect(result.context).toEqual({ features: 3, version: 2, model: 'ok' });
    expect(logger.lines).toContain(
      '[checkpointer] versions: step "featurise": version changed (1 → 2) — discarding its 3 completed item(s) and its memoised result; it runs again',
    );
  });
});

describe('Pipeline: the context must be JSON', () => {
  const cases: [string, () => JsonObject][] = [
    ['a function', () => ({ fn: (() => 1) as unknown as JsonObject })],
    ['a BigInt', () => ({ big: 10n as unknown as number })],
    ['a cycle', () => {
      const loop: JsonObject = {};
      loop.self = loop;
      return { loop };
    }],
    ['a Date', () => ({ when: new Date(0) as unknown as string })],
  ];

  for (const [what, value] of cases) {
    it(`fails the step that returned ${what}, and the checkpoint stays readable`, async () => {
      const path = join(tempDir(), 'json.json');
      const logger = new RecordingLogger();
      let bad = true;
      const steps = (): StepDefinition<JsonObject>[] => [
        { name: 'fine', run: () => ({ ok: true }) },
        { name: 'sloppy', run: () => (bad ? value() : { ok: 'fixed' }) },
      ];
      const error = await new ScriptedPipeline('json', steps, { path, logger }).run().catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(PipelineStepError);
      expect((error as PipelineStepError).step).toBe('sloppy');
      expect((error as PipelineStepError).cause).toBeInstanceOf(CheckpointArgumentError);
      expect((error as Error).message).toMatch(/step "sloppy" returned a value JSON cannot hold: result\.[\w.]+ /);
      bad = false;
      const result = await new ScriptedPipeline('json', steps, { path, logger }).run();
      expect(result.skippedSteps).toEqual(['fine']);
      expect(result.context).toEqual({ ok: 'fixed' });
    });
  }

  it('fails a step that put a non-JSON value into the context in place', async () => {
    const steps = (): StepDefinition<JsonObject>[] => [
      { name: 'mutates', run: (ctx) => void (ctx.when = new Date(0) as unknown as string) },
    ];
    const run = new ScriptedPipeline('inplace', steps, { path: join(tempDir(), 'x.json'), logger: new RecordingLogger() }).run();
    await expect(run).rejects.toThrow('step "mutates" left a value in the context that JSON cannot hold: context.when is a Date, not a plain object (pass date.toISOString() instead)');
  });

  it('refuses a step that returns something other than an object', async () => {
    const steps = (): StepDefinition<JsonObject>[] => [{ name: 'number', run: () => 5 as unknown as JsonObject }];
    const run = new ScriptedPipeline('ret', steps, { path: join(tempDir(), 'x.json'), logger: new RecordingLogger() }).run();
    await expect(run).rejects.toThrow('Expected step "number" to return a plain object to merge into the context, or nothing, got `5` (number)');
  });

  it('refuses an initial context that is not JSON before touching the checkpoint', async () => {
    const dir = tempDir();
    const pipeline = new ScriptedPipeline<JsonObject>('init', () => [{ name: 'a', run: () => {} }], { path: join(dir, 'x.json') });
    await expect(pipeline.run({ n: NaN })).rejects.toThrow('context.n is NaN, which JSON cannot represent');
    expect(filesIn(dir)).toEqual([]);
  });
});

describe('Pipeline: definitions, hooks, events and cleanup', () => {
  it('refuses duplicate step names and steps without `run`', async () => {
    const path = join(tempDir(), 'x.json');
    const duplicate = new ScriptedPipeline<JsonObject>('dup', () => [{ name: 'a', run: () => {} }, { name: 'a', run: () => {} }], { path });
    await expect(duplicate.run()).rejects.toThrow('Expected step names to be unique, got "a" twice in `dup.steps()`');
    const noRun = new ScriptedPipeline<JsonObject>('norun', () => [{ name: 'a' } as StepDefinition<JsonObject>], { path });
    await expect(noRun.run()).rejects.toThrow('Expected `norun.steps()[0].run` (step "a") to be a function, got `undefined` (undefined)');
  });

  it('calls onStepStart, onStepEnd and onError, and emits step events', async () => {
    const seen: string[] = [];
    class Hooked extends Pipeline<Ctx> {
      readonly name = 'hooked';
      fail = true;
      steps(): StepDefinition<Ctx>[] {
        return [
          { name: 'a', run: async (_ctx, step) => {
            await step.markItemCompleted('only item');
            return { a: 1 };
          } },
          { name: 'b', run: () => {
            if (this.fail) throw new Error('b broke');
            return { b: 2 };
          } },
        ];
      }
      protected override onStepStart(step: StepDefinition<Ctx>): void {
        seen.push(`start ${step.name}`);
      }
      protected override onStepEnd(step: StepDefinition<Ctx>, summary: StepSummary, context: Readonly<Ctx>): void {
        seen.push(`end ${step.name} ${summary.status} ${JSON.stringify(context)}`);
      }
      protected override onError(error: PipelineStepError): void {
        seen.push(`error ${error.step}`);
      }
    }
    const path = join(tempDir(), 'hooks.json');
    const pipeline = new Hooked({ path, logger: new RecordingLogger() });
    pipeline.on('stepStart', ({ step, index, total, attempt }) => seen.push(`event start ${step} ${index}/${total} #${attempt}`));
    pipeline.on('stepEnd', ({ step, status, error }) => seen.push(`event end ${step} ${status}${error ? ` ${error.step}` : ''}`));
    pipeline.on('stepSkip', ({ step, reason }) => seen.push(`event skip ${step}: ${reason}`));
    const items: string[] = [];
    pipeline.on('item', ({ step, status }) => items.push(`${step}:${status}`));

    await expect(pipeline.run()).rejects.toThrow('b broke');
    pipeline.fail = false;
    await pipeline.run();
    expect(seen).toEqual([
      'event start a 0/2 #1',
      'start a',
      'event end a completed',
      'end a completed {"a":1}',
      'event start b 1/2 #1',
      'start b',
      'event end b failed b',
      'error b',
      'event skip a: completed in an earlier run',
      'event start b 1/2 #2',
      'start b',
      'event end b completed',
      'end b completed {"a":1,"b":2}',
    ]);
    expect(items).toEqual(['a:completed']);
  });

  it('removes the checkpoint and everything beside it on success, or keeps it with keepOnComplete', async () => {
    const dir = tempDir();
    const steps = (): StepDefinition<Ctx>[] => [{ name: 'a', run: () => ({ a: 1 }) }];
    const removed = await new ScriptedPipeline('clean', steps, { path: join(dir, 'gone.json'), logger: new RecordingLogger() }).run();
    expect(removed.checkpointKept).toBe(false);
    expect(filesIn(dir)).toEqual([]);

    const kept = await new ScriptedPipeline('clean', steps, { path: join(dir, 'kept.json'), keepOnComplete: true, logger: new RecordingLogger() }).run();
    expect(kept.checkpointKept).toBe(true);
    expect(filesIn(dir)).toContain('kept.json');
    const again = await new ScriptedPipeline('clean', steps, { path: join(dir, 'kept.json'), keepOnComplete: true, logger: new RecordingLogger() }).run();
    expect(again.resumedFromCheckpoint).toBe(true);
    expect(again.skippedSteps).toEqual(['a']);
    expect(again.context).toEqual({ a: 1 });
  });

  it('stops between steps when its signal aborts, keeping the checkpoint for the next run', async () => {
    const path = join(tempDir(), 'abort.json');
    const controller = new AbortController();
    const steps = (): StepDefinition<Ctx>[] => [
      { name: 'a', run: () => (controller.abort(new Error('shutting down')), { a: 1 }) },
      { name: 'b', run: () => ({ b: 2 }) },
    ];
    const logger = new RecordingLogger();
    const error = await new ScriptedPipeline('abort', steps, { path, logger, signal: controller.signal }).run().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(CheckpointAbortError);
    expect((error as Error).message).toContain('abort: aborted before step "b" — progress is saved; run again to resume');
    const result = await new ScriptedPipeline('abort', steps, { path, logger }).run();
    expect(result.skippedSteps).toEqual(['a']);
    expect(result.context).toEqual({ a: 1, b: 2 });
  });

  it('refuses a second run() of the same pipeline while one is going', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const pipeline = new ScriptedPipeline<JsonObject>('busy', () => [{ name: 'wait', run: () => gate }], {
      path: join(tempDir(), 'busy.json'),
      logger: new RecordingLogger(),
    });
    const first = pipeline.run();
    await expect(pipeline.run()).rejects.toThrow('pipeline "busy" is already running');
    release();
    await expect(first).resolves.toMatchObject({ completedSteps: ['wait'] });
  });
});
