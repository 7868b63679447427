import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PipelineStepError } from '../../src/core/errors.js';
import type { CheckpointChange, CheckpointDocument } from '../../src/core/model.js';
import type { SaveErrorEvent } from '../../src/pipeline/pipeline-events.js';
import type { StepDefinition } from '../../src/pipeline/step-definition.js';
import { JsonFileStore } from '../../src/stores/file/file-store.js';
import type { CheckpointStore, LoadedCheckpoint, StoreSession } from '../../src/stores/store.js';
import { RecordingLogger, ScriptedPipeline, removeTempDirs, tempDir } from './support.js';

afterEach(removeTempDirs);

/** A real file store whose writes fail while `failing` is set, as on a full disk. */
class FullDiskStore implements CheckpointStore {
  failing = false;
  readonly #inner: JsonFileStore;

  constructor(path: string) {
    this.#inner = new JsonFileStore(path);
  }

  get location(): string {
    return this.#inner.location;
  }

  open(session: StoreSession): Promise<LoadedCheckpoint | undefined> {
    return this.#inner.open(session);
  }

  append(change: CheckpointChange): Promise<void> {
    if (this.failing) return Promise.reject(new Error('ENOSPC: no space left on device, write'));
    return this.#inner.append(change);
  }

  save(document: CheckpointDocument): Promise<void> {
    return this.#inner.save(document);
  }

  flush(): Promise<void> {
    return this.#inner.flush();
  }

  close(): Promise<void> {
    return this.#inner.close();
  }

  remove(): Promise<void> {
    return this.#inner.remove();
  }
}

type Ctx = { a?: number; b?: number; c?: number };

/** Step `b` fills the disk, marks three items and frees the disk again; `c` fails while `failC`. */
function steps(store: FullDiskStore, failC: { value: boolean }): () => StepDefinition<Ctx>[] {
  return () => [
    { name: 'a', run: () => ({ a: 1 }) },
    {
      name: 'b',
      run: async (_ctx, step) => {
        store.failing = true;
        for (const item of ['x', 'y', 'z']) await step.markItemCompleted(item);
        store.failing = false;
        return { b: 2 };
      },
    },
    {
      name: 'c',
      run: () => {
        if (failC.value) throw new Error('c is not ready');
        return { c: 3 };
      },
    },
  ];
}

describe('Pipeline: a checkpoint that cannot be saved', () => {
  it('logs the failure once per step and goes on (onSaveError: log)', async () => {
    const path = join(tempDir(), 'full.json');
    const store = new FullDiskStore(path);
    const logger = new RecordingLogger();
    const pipeline = new ScriptedPipeline('disk', steps(store, { value: false }), { store, logger });
    const events: SaveErrorEvent[] = [];
    pipeline.on('saveError', (event) => events.push(event));

    const result = await pipeline.run();
    expect(result.completedSteps).toEqual(['a', 'b', 'c']);
    expect(result.context).toEqual({ a: 1, b: 2, c: 3 });
    expect(events.map(({ step, operation }) => `${step}:${operation}`)).toEqual(['b:append', 'b:append', 'b:append']);
    expect(logger.warnings).toEqual([
      '[checkpointer] could not save the checkpoint during step "b" (append): ENOSPC: no space left on device, write — ' +
        "the run goes on; after a crash, work since the last good save is done again (pass { onSaveError: 'throw' } to stop instead)",
      '[checkpointer] 2 more checkpoint saves failed during step "b"',
    ]);
    expect(existsSync(path)).toBe(false);
  });

  it('catches the checkpoint up at the next good write, so a later resume skips the work done meanwhile', async () => {
    const path = join(tempDir(), 'catch-up.json');
    const store = new FullDiskStore(path);
    const logger = new RecordingLogger();
    const failC = { value: true };
    await expect(new ScriptedPipeline('disk', steps(store, failC), { store, logger }).run()).rejects.toThrow('c is not ready');

    failC.value = false;
    const seen: boolean[] = [];
    const resumed = new ScriptedPipeline('disk', () => [
      ...steps(store, failC)().slice(0, 2),
      { name: 'c', run: (_ctx, step) => (seen.push(step.checkpoint.isItemCompleted('b', 'y')), { c: 3 }) },
    ], { store, logger });
    const result = await resumed.run();
    expect(result.skippedSteps).toEqual(['a', 'b']);
    expect(seen).toEqual([true]);
    expect(result.context).toEqual({ a: 1, b: 2, c: 3 });
  });

  it('fails the step with the save error when asked to (onSaveError: throw), keeping the checkpoint', async () => {
    const path = join(tempDir(), 'strict.json');
    const store = new FullDiskStore(path);
    const logger = new RecordingLogger();
    const error = await new ScriptedPipeline('disk', steps(store, { value: false }), { store, logger, onSaveError: 'throw' })
      .run()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(PipelineStepError);
    expect((error as PipelineStepError).step).toBe('b');
    expect(((error as PipelineStepError).cause as Error).message).toBe('ENOSPC: no space left on device, write');
    expect(existsSync(path)).toBe(true);
  });

  it('refuses an unknown onSaveError policy', () => {
    expect(() => new ScriptedPipeline('disk', () => [], { path: 'x.json', onSaveError: 'ignore' as 'log' })).toThrow(
      "Expected `onSaveError` to be 'log' or 'throw', got `\"ignore\"` (string)",
    );
  });
});
