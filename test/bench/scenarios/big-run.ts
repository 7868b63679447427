import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { costFigure, type Figure } from '../lib/figures.js';
import { keyOf, quantile, yieldToEventLoop } from '../lib/measure.js';
import { openCheckpoint } from './ours.js';
import { journalLineBytes, STEP } from './raw-append.js';

export interface Latencies {
  p50: number;
  p99: number;
  max: number;
}

function summarise(samples: Float64Array): Latencies {
  samples.sort();
  return { p50: quantile(samples, 0.5), p99: quantile(samples, 0.99), max: samples[samples.length - 1]! };
}

/**
 * Marks `count` items as a pipeline would: each item's (empty) work is one turn of the event
 * loop, then its mark is awaited. A mark's latency runs from the moment its item is scheduled
 * until the mark resolves, so a compaction that holds the event loop counts against the mark
 * that had to wait for it.
 */
export async function bigRun(directory: string, count: number): Promise<{ latencies: Latencies; compactions: number; elapsedMs: number; file: string }> {
  const checkpoint = await openCheckpoint(directory, 'normal');
  let compactions = 0;
  checkpoint.on('flush', ({ reason }) => {
    if (reason !== 'flush' && reason !== 'close') compactions++;
  });
  const samples = new Float64Array(count);
  const start = performance.now();
  for (let i = 0; i < count; i++) {
    const scheduled = performance.now();
    await yieldToEventLoop();
    await checkpoint.markItemCompleted(STEP, keyOf(i));
    samples[i] = performance.now() - scheduled;
  }
  const elapsedMs = performance.now() - start;
  await checkpoint.close();
  return { latencies: summarise(samples), compactions, elapsedMs, file: join(directory, 'checkpoint.json') };
}

/** The same loop around a raw `fs.writeSync` of a record of the same size. */
export async function rawRun(directory: string, count: number): Promise<Latencies> {
  const fd = openSync(join(directory, 'raw.log'), 'a');
  const padding = journalLineBytes(count >> 1);
  const samples = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const scheduled = performance.now();
    await yieldToEventLoop();
    const json = `{"op":"item","step":"${STEP}","key":"${keyOf(i)}","status":"completed","attempts":1,"at":${Date.now()}}`;
    writeSync(fd, `${json.padEnd(padding - 1)}\n`);
    samples[i] = performance.now() - scheduled;
  }
  closeSync(fd);
  return summarise(samples);
}

export function latencyFigures(ours: Latencies, raw: Latencies, count: number, compactions: number): Figure[] {
  const label = `mark latency over ${count.toLocaleString('en-US')} marks (${compactions} compactions)`;
  const base = (what: string, value: number): { label: string; value: number } => ({ label: `${what} of the same loop around a raw writeSync`, value });
  return [
    costFigure({ id: 'latency.p50', scenario: 7, label: `${label}, p50`, value: ours.p50, unit: 'ms', baseline: base('p50', raw.p50) }),
    costFigure({ id: 'latency.p99', scenario: 7, label: `${label}, p99`, value: ours.p99, unit: 'ms', baseline: base('p99', raw.p99) }),
    costFigure({ id: 'latency.max', scenario: 7, label: `${label}, max`, value: ours.max, unit: 'ms', baseline: base('max', raw.max) }),
  ];
}
