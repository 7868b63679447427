import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { rateFigure, type Scenario } from '../lib/figures.js';
import { freshDirectory, keyOf, median } from '../lib/measure.js';
import { timeMarks } from './ours.js';
import { STEP } from './raw-append.js';

/**
 * The seeds' approach: the whole state in one JSON file, in their shape, rewritten with
 * write-file-atomic after every mark — O(n) per mark, O(n²) per run.
 */
async function wholeFileRewrite(directory: string, count: number, fsync: boolean, stride: number): Promise<number> {
  const file = join(directory, 'pipeline_checkpoint.json');
  const now = new Date().toISOString();
  const step = { completed_items: [] as string[], failed_items: [] as string[], in_progress_items: [] as string[] };
  const state = { metadata: { created_at: now, last_updated: now, pipeline_type: 'BENCH' }, steps: { [STEP]: step } };
  let elapsed = 0;
  for (let i = 0; i < count; i++) {
    step.completed_items.push(keyOf(i));
    // With a stride (--quick) only every stride-th mark is written and timed, and counts for
    // `stride` marks: a mark's cost grows with the file, so this samples the same curve.
    if ((i + 1) % stride !== 0) continue;
    const start = performance.now();
    state.metadata.last_updated = new Date().toISOString();
    await writeFileAtomic(file, JSON.stringify(state, null, 2), { fsync });
    elapsed += (performance.now() - start) * stride;
  }
  return elapsed;
}

/** Scenario 4: marks/s at 2,000 items against rewriting the whole file on every mark. */
export const seedsScenario: Scenario = {
  numbers: [4],
  title: "the seeds' whole-file rewrite per mark",
  async run({ scale, work, log }) {
    const count = scale.seedItems;
    const rate = (ms: number): number => (count * 1000) / ms;
    const stride = scale.quick ? 10 : 1;
    const samples = { rewrite: [] as number[], rewriteNoSync: [] as number[], normal: [] as number[], full: [] as number[] };
    for (let rep = 0; rep < scale.repetitions; rep++) {
      samples.rewrite.push(rate(await wholeFileRewrite(freshDirectory(work, 'seeds'), count, true, stride)));
      samples.normal.push(rate(await timeMarks(freshDirectory(work, 'seeds-normal'), 'normal', count)));
      samples.rewriteNoSync.push(rate(await wholeFileRewrite(freshDirectory(work, 'seeds-nosync'), count, false, stride)));
      if (!scale.quick) samples.full.push(rate(await timeMarks(freshDirectory(work, 'seeds-full'), 'full', count)));
      log(`  rep ${rep + 1}: normal ${Math.round(samples.normal.at(-1)!)}/s, rewrite ${Math.round(samples.rewrite.at(-1)!)}/s, rewrite without fsync ${Math.round(samples.rewriteNoSync.at(-1)!)}/s${scale.quick ? '' : `, full ${Math.round(samples.full.at(-1)!)}/s`}`);
    }
    if (stride > 1) log(`  (--quick: the rewrite was timed at every ${stride}th mark and scaled up)`);
    const rewrite = { label: 'write-file-atomic of the whole JSON per mark (its default: fsync)', value: median(samples.rewrite) };
    const rewriteNoSync = { label: 'write-file-atomic of the whole JSON per mark, { fsync: false }', value: median(samples.rewriteNoSync) };
    const figures = [
      rateFigure({ id: 'seeds.normal', scenario: 4, label: `'normal' marks, ${count} items`, value: median(samples.normal), unit: 'marks/s', baseline: rewrite, samples: samples.normal }),
      rateFigure({ id: 'seeds.normalNoSync', scenario: 4, label: `'normal' marks, ${count} items (both survive kill -9)`, value: median(samples.normal), unit: 'marks/s', baseline: rewriteNoSync, samples: samples.normal }),
    ];
    if (samples.full.length > 0) {
      figures.push(rateFigure({ id: 'seeds.full', scenario: 4, label: `'full' marks, ${count} items (both fsync)`, value: median(samples.full), unit: 'marks/s', baseline: rewrite, samples: samples.full }));
    }
    return figures;
  },
};
