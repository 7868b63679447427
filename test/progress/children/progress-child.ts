/**
 * Runs a forEach and a Pipeline with `progress: true` and standard error made to look like a
 * terminal, so that the parent can read the bars from a pipe. `CI` decides whether they show.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { CheckpointManager, MemoryStore, Pipeline, type StepDefinition } from '../../../src/index.js';

// What a terminal reports; the bars then draw as they would on one, onto the pipe.
process.stderr.isTTY = true;
process.stderr.columns = 100;

const cp = await CheckpointManager.open({ store: new MemoryStore(), pipeline: 'progress_child' });
const items = Array.from({ length: 20 }, (_, i) => i);
const report = await cp.step('items').forEach(items, async (i) => {
  await sleep(5);
  if (i === 7) throw new Error('item 7 fails');
}, { concurrency: 2, progress: true, progressIntervalMs: 0 });
console.log(`forEach: ${report.completed} completed, ${report.failed} failed`);
await cp.close();

type Ctx = { files?: number };
class TwoSteps extends Pipeline<Ctx> {
  readonly name = 'two_steps';
  steps(): StepDefinition<Ctx>[] {
    const work = (count: number) => async (_ctx: Ctx, step: Parameters<StepDefinition<Ctx>['run']>[1]) => {
      await step.forEach(Array.from({ length: count }, (_, i) => `f${i}`), () => sleep(2));
      return { files: count };
    };
    return [
      { name: 'download', run: work(5) },
      { name: 'convert', run: work(8) },
    ];
  }
}
const result = await new TwoSteps({ store: new MemoryStore(), logger: { warn: () => {}, error: console.error } }).run({}, { progress: true });
console.log(`pipeline: ${result.completedSteps.join(', ')}`);
