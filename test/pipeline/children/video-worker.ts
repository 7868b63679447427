/**
 * A pipeline in its own process, for the SIGKILL test: download → extract (60 frames, one item
 * each, a few ms apiece) → train. It prints `DONE <frame>` once a frame's completion is
 * acknowledged, and a `RESULT <json>` line when the run ends.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Pipeline } from '../../../src/pipeline/pipeline.js';
import type { StepDefinition } from '../../../src/pipeline/step-definition.js';

type Ctx = { video: string; frames?: number; extracted?: number; model?: string };

const path = process.argv[2];
if (!path) throw new Error('usage: video-worker.ts <checkpoint path>');
const frames = Array.from({ length: 60 }, (_, i) => `frame-${i}`);

class VideoPipeline extends Pipeline<Ctx> {
  readonly name = 'video';

  steps(): StepDefinition<Ctx>[] {
    return [
      {
        name: 'download',
        run: () => {
          console.log('RUN download');
          return { frames: frames.length };
        },
      },
      {
        name: 'extract',
        run: async (_ctx, step) => {
          const todo = step.pendingItems(frames);
          console.log(`TODO ${todo.length}`);
          for (const frame of todo) {
            await step.markItemInProgress(frame);
            await sleep(5);
            await step.markItemCompleted(frame);
            console.log(`DONE ${frame}`);
          }
          return { extracted: frames.filter((frame) => step.isItemCompleted(frame)).length };
        },
      },
      { name: 'train', run: (ctx) => ({ model: `trained on ${ctx.extracted} frames` }) },
    ];
  }
}

const quiet = { warn: (message: string) => console.error(message), error: (message: string) => console.error(message) };
const result = await new VideoPipeline({ path, logger: quiet }).run({ video: 'match.mp4' });
console.log(`RESULT ${JSON.stringify(result)}`);
