import type { CheckpointManager } from '../../../src/index.js';
import { costFigure, type Figure, type Scenario } from '../lib/figures.js';
import { freshDirectory, keyOf, median } from '../lib/measure.js';
import { openCheckpoint } from './ours.js';
import { STEP } from './raw-append.js';

type Work = (item: string) => Promise<void>;
type ForEach = (items: Iterable<string>, fn: Work, options: { concurrency: number }) => Promise<unknown>;

const work: Work = async () => {};

/** `step.forEach`, if this version of the library has it (the runner lands separately). */
function forEachOf(checkpoint: CheckpointManager): ForEach | undefined {
  const step = checkpoint.step(STEP) as unknown as { forEach?: ForEach };
  return typeof step.forEach === 'function' ? step.forEach.bind(step) : undefined;
}

/** What a user writes without the runner: skip done items, mark in progress, work, mark done. */
async function handWritten(checkpoint: CheckpointManager, items: string[], concurrency: number): Promise<void> {
  const pending = checkpoint.pendingItems(STEP, items);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < pending.length; i = next++) {
      const item = pending[i]!;
      await checkpoint.markItemInProgress(STEP, item);
      try {
        await work(item);
        await checkpoint.markItemCompleted(STEP, item);
      } catch (error) {
        await checkpoint.markItemFailed(STEP, item, error);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

async function timeOne(directory: string, items: string[], concurrency: number, useForEach: boolean): Promise<number> {
  const checkpoint = await openCheckpoint(directory, 'normal');
  const forEach = forEachOf(checkpoint);
  const start = performance.now();
  if (useForEach) await forEach!(items, work, { concurrency });
  else await handWritten(checkpoint, items, concurrency);
  const elapsed = performance.now() - start;
  await checkpoint.close();
  return elapsed;
}

/** Scenario 8: what `forEach` costs per item over a hand-written loop doing the same marks. */
export const forEachScenario: Scenario = {
  numbers: [8],
  title: 'forEach overhead vs a hand-written loop',
  async run({ scale, work: directory, log }) {
    const probe = await openCheckpoint(freshDirectory(directory, 'probe'), 'normal');
    const available = forEachOf(probe) !== undefined;
    await probe.close();
    if (!available) {
      log('  step.forEach is not in this version of the library yet: scenario 8 skipped');
      return [];
    }
    const items = Array.from({ length: scale.forEachItems }, (_, i) => keyOf(i));
    const figures: Figure[] = [];
    for (const concurrency of [1, 16]) {
      const ours: number[] = [];
      const loop: number[] = [];
      for (let rep = 0; rep < scale.repetitions; rep++) {
        loop.push(await timeOne(freshDirectory(directory, 'loop'), items, concurrency, false));
        ours.push(await timeOne(freshDirectory(directory, 'forEach'), items, concurrency, true));
      }
      const perItem = (ms: number): number => (ms * 1000) / items.length;
      const value = perItem(median(ours));
      const baseline = perItem(median(loop));
      log(`  concurrency ${concurrency}: forEach ${value.toFixed(2)} µs/item, loop ${baseline.toFixed(2)} µs/item`);
      figures.push(
        costFigure({ id: `forEach.c${concurrency}`, scenario: 8, label: `forEach, concurrency ${concurrency}, empty work`, value, unit: 'µs/item', baseline: { label: `hand-written loop, same marks, concurrency ${concurrency}`, value: baseline }, samples: ours.map(perItem), note: `overhead ${(value - baseline).toFixed(2)} µs/item` }),
      );
    }
    return figures;
  },
};
