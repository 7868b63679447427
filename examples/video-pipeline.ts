/**
 * The Pipeline demo behind `npm run example:pipeline`: a training pipeline in three steps —
 * download the video, extract its 48 frames (one checkpointed item each, 4 at a time), train.
 *
 * The first run is a child process that crashes on purpose (`process.exit(1)`, no cleanup)
 * while extracting frame 30. The second run uses the same checkpoint: it skips the download,
 * skips the frames already extracted, extracts the rest, trains, and deletes the checkpoint.
 */
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { StepSummary } from '../src/core/model.js';
import { Pipeline } from '../src/pipeline/pipeline.js';
import type { StepDefinition } from '../src/pipeline/step-definition.js';

const here = dirname(fileURLToPath(import.meta.url));
const path = relative(process.cwd(), join(here, '.runs', 'video-pipeline', '.checkpoint.json'));
const crashAtFrame = process.env.CRASH_AT_FRAME;

type VideoContext = {
  videoPath: string;
  videoBytes?: number;
  frameCount?: number;
  framesExtracted?: number;
  modelPath?: string;
  accuracy?: number;
};

class TrainPipeline extends Pipeline<VideoContext> {
  readonly name = 'train_pipeline';

  steps(): StepDefinition<VideoContext>[] {
    return [
      {
        name: 'download',
        description: 'fetch the video',
        run: async (ctx) => {
          await sleep(200);
          console.log(`    downloaded ${ctx.videoPath}`);
          return { videoBytes: 48_000_000, frameCount: 48 };
        },
      },
      {
        name: 'extract',
        description: 'extract frames',
        version: 1,
        run: async (ctx, step) => {
          const frames = Array.from({ length: ctx.frameCount ?? 0 }, (_, i) => `frame-${String(i).padStart(4, '0')}`);
          const report = await step.forEach(frames, async (frame) => {
            if (frame === crashAtFrame) {
              console.log(`    💥 crashing on purpose while extracting ${frame}`);
              process.exit(1);
            }
            await sleep(20);
          }, { concurrency: 4 });
          if (report.skipped > 0) console.log(`    skipped ${report.skipped} frames extracted by the earlier run`);
          console.log(`    extracted ${report.completed} frames in this run`);
          step.setMetadata({ extractedThisRun: report.completed, skipped: report.skipped });
          // A failed frame must fail the step, so that the next run retries it instead of skipping the step.
          if (report.failed > 0) throw new Error(`${report.failed} frames could not be extracted`);
          return { framesExtracted: frames.length };
        },
      },
      {
        name: 'train',
        description: 'train the model',
        run: async (ctx) => {
          await sleep(200);
          return { modelPath: 'models/player-detector.onnx', accuracy: Math.round(900 + (ctx.framesExtracted ?? 0)) / 1000 };
        },
      },
    ];
  }

  protected override onStepStart(step: StepDefinition<VideoContext>): void {
    console.log(`  ▶ ${step.name}: ${step.description}`);
  }

  protected override onStepEnd(step: StepDefinition<VideoContext>, summary: StepSummary): void {
    console.log(`  ✓ ${step.name} completed in ${summary.durationMs} ms (attempt ${summary.attempts})`);
  }
}

/** Prints the library's own lines (resuming, skipping) but not its debug chatter. */
const logger = {
  info: (message: string) => console.log(`  ${message}`),
  warn: (message: string, ...rest: unknown[]) => console.warn(message, ...rest),
  error: (message: string, ...rest: unknown[]) => console.error(message, ...rest),
};

async function run(label: string): Promise<void> {
  console.log(`${label} starting`);
  const result = await new TrainPipeline({ path, logger }).run({ videoPath: 'gs://bucket/match.mp4' });
  console.log(`${label} finished`);
  console.log(`  resumed from checkpoint: ${result.resumedFromCheckpoint}`);
  console.log(`  skipped steps:   ${result.skippedSteps.join(', ') || '(none)'}`);
  console.log(`  completed steps: ${result.completedSteps.join(', ')}`);
  console.log(`  extract metadata: ${JSON.stringify(result.steps.extract?.metadata)}`);
  console.log(`  context: ${JSON.stringify(result.context)}`);
  console.log(`  checkpoint ${result.checkpointKept ? `kept at ${path}` : 'deleted: the run is complete'}`);
}

if (crashAtFrame) {
  await run('[run 1]');
} else {
  rmSync(dirname(path), { recursive: true, force: true });
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    env: { ...process.env, CRASH_AT_FRAME: 'frame-0030' },
    stdio: 'inherit',
  });
  if (child.status === 0) throw new Error('the first run was meant to crash, but it finished');
  console.log(`[demo] the first run died (${child.signal ?? `exit code ${child.status}`}); its checkpoint is at ${path}. Running again…\n`);
  await run('[run 2]');
}
