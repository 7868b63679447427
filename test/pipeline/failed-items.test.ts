import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { StepDefinition } from '../../src/pipeline/step-definition.js';
import { RecordingLogger, ScriptedPipeline, removeTempDirs, tempDir } from './support.js';

afterEach(removeTempDirs);

type Ctx = { extracted?: number; trained?: boolean };

describe('Pipeline: a step that completes with failed items', () => {
  it('keeps the checkpoint and runs the step again for its failed items only', async () => {
    const path = join(tempDir(), 'checkpoint.json');
    const frames = Array.from({ length: 6 }, (_, i) => `frame-${i}`);
    const processed: string[] = [];
    let broken = new Set(['frame-2', 'frame-4']);
    const steps = (): StepDefinition<Ctx>[] => [
      {
        name: 'extract',
        run: async (_ctx, step) => {
          const report = await step.forEach(frames, async (frame) => {
            processed.push(frame);
            if (broken.has(frame)) throw new Error(`cannot decode ${frame}`);
          });
          return { extracted: report.completed };
        },
      },
      { name: 'train', run: () => ({ trained: true }) },
    ];
    const logger = new RecordingLogger();

    const first = await new ScriptedPipeline<Ctx>('video', steps, { path, logger }).run();
    expect(first.completedSteps).toEqual(['extract', 'train']);
    expect(first.checkpointKept).toBe(true);
    expect(existsSync(path)).toBe(true);
    expect(logger.warnings.some((line) => line.includes('"extract" completed with failed items'))).toBe(true);

    broken = new Set();
    processed.length = 0;
    const second = await new ScriptedPipeline<Ctx>('video', steps, { path, logger }).run();
    expect(processed.sort()).toEqual(['frame-2', 'frame-4']);
    expect(second.plan.find((entry) => entry.step === 'extract')).toMatchObject({ action: 'run', reason: 'completed with failed items, which are retried' });
    expect(second.plan.find((entry) => entry.step === 'train')!.action).toBe('skip');
    expect(second.checkpointKept).toBe(false);
    expect(existsSync(path)).toBe(false);
  });
});
