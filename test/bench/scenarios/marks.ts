import { rmSync } from 'node:fs';
import { costFigure, rateFigure, type Figure, type Scenario } from '../lib/figures.js';
import { freshDirectory, median } from '../lib/measure.js';
import { measureMarks, timeMarks } from './ours.js';
import { rawAppend } from './raw-append.js';

const perSecond = (count: number, ms: number): number => (count * 1000) / ms;

/** Scenarios 1–3: marks/s of each durability mode against raw appends of the same bytes. */
export const marksScenario: Scenario = {
  numbers: [1, 2, 3],
  title: 'marks per durability mode vs raw appends',
  async run({ scale, work, log }) {
    const fast = scale.fastMarks;
    const synced = scale.syncedMarks;
    const samples = { raw: [] as number[], normal: [] as number[], batched: [] as number[], rawSync: [] as number[], full: [] as number[], full16: [] as number[] };
    const cpu = { raw: [] as number[], normal: [] as number[], batched: [] as number[] };
    const microsPerMark = (ms: number): number => (ms * 1000) / fast;
    for (let rep = 0; rep < scale.repetitions; rep++) {
      const dir = freshDirectory(work, 'marks');
      // Interleaved, so that a noisy moment hits baseline and library alike.
      const rawCpu = process.cpuUsage();
      samples.raw.push(perSecond(fast, rawAppend(dir, fast, { fsyncEach: false })));
      const rawUsed = process.cpuUsage(rawCpu);
      cpu.raw.push(microsPerMark((rawUsed.user + rawUsed.system) / 1000));
      const normal = await measureMarks(freshDirectory(work, 'normal'), 'normal', fast);
      samples.normal.push(perSecond(fast, normal.ms));
      cpu.normal.push(microsPerMark(normal.cpuMs));
      const batched = await measureMarks(freshDirectory(work, 'batched'), 'batched', fast);
      samples.batched.push(perSecond(fast, batched.ms));
      cpu.batched.push(microsPerMark(batched.cpuMs));
      samples.rawSync.push(perSecond(synced, rawAppend(dir, synced, { fsyncEach: true })));
      samples.full.push(perSecond(synced, await timeMarks(freshDirectory(work, 'full'), 'full', synced)));
      samples.full16.push(perSecond(synced * 4, await timeMarks(freshDirectory(work, 'full16'), 'full', synced * 4, 16)));
      log(`  rep ${rep + 1}: normal ${Math.round(samples.normal.at(-1)!)}/s, raw ${Math.round(samples.raw.at(-1)!)}/s, full ${Math.round(samples.full.at(-1)!)}/s, raw+fsync ${Math.round(samples.rawSync.at(-1)!)}/s, full×16 ${Math.round(samples.full16.at(-1)!)}/s`);
      rmSync(dir, { recursive: true, force: true });
    }
    const raw = { label: 'raw fs.writeSync append, same bytes', value: median(samples.raw) };
    const rawSync = { label: 'raw writeSync + fdatasync per record', value: median(samples.rawSync) };
    const figures: Figure[] = [
      rateFigure({ id: 'normal.marks', scenario: 1, label: "'normal' marks, sequential", value: median(samples.normal), unit: 'marks/s', baseline: raw, samples: samples.normal }),
      rateFigure({ id: 'batched.marks', scenario: 2, label: "'batched' marks, sequential", value: median(samples.batched), unit: 'marks/s', baseline: raw, samples: samples.batched }),
      rateFigure({ id: 'full.marks', scenario: 3, label: "'full' marks, sequential", value: median(samples.full), unit: 'marks/s', baseline: rawSync, samples: samples.full }),
      rateFigure({ id: 'full.marks16', scenario: 3, label: "'full' marks, 16 concurrent (group commit)", value: median(samples.full16), unit: 'marks/s', baseline: rawSync, samples: samples.full16 }),
      // CPU time is what a busy machine disturbs least: it shows the cost without the waiting.
      costFigure({ id: 'normal.cpu', scenario: 1, label: "'normal' marks, CPU time of this process", value: median(cpu.normal), unit: 'µs/mark', baseline: { label: 'CPU time of the raw append', value: median(cpu.raw) }, samples: cpu.normal }),
      costFigure({ id: 'batched.cpu', scenario: 2, label: "'batched' marks, CPU time of this process", value: median(cpu.batched), unit: 'µs/mark', baseline: { label: 'CPU time of the raw append', value: median(cpu.raw) }, samples: cpu.batched }),
    ];
    return figures;
  },
};
