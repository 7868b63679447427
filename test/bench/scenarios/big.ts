import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { promisify } from 'node:util';
import { costFigure, type Figure, type Scenario } from '../lib/figures.js';
import { freshDirectory, keyOf, ROOT } from '../lib/measure.js';
import { bigRun, latencyFigures, rawRun } from './big-run.js';

const run = promisify(execFile);

/** Runs open-child.ts (a fresh process per measurement) and returns the JSON line it prints. */
export async function child<T>(mode: string, file: string, items: number, repetitions: number): Promise<T> {
  const { stdout } = await run(process.execPath, ['--expose-gc', '--max-old-space-size=8192', '--import', 'tsx', 'test/bench/open-child.ts', mode, file, String(items), String(repetitions)], {
    cwd: ROOT,
    maxBuffer: 1 << 20,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as T;
}

interface OpenResult {
  openMs: number;
  openSamples: number[];
  parseMs: number;
  parseSamples: number[];
  parseAndSetMs: number;
  lookupNs: number;
  lookupSamples: number[];
  setHasNs: number;
}

/** Scenarios 7 then 6: a big run's mark latencies, then opening what it left. */
export const bigScenario: Scenario = {
  numbers: [6, 7],
  title: 'a big checkpoint: mark latency while compacting, open, lookups, memory, size',
  async run({ scale, work, log }) {
    const count = scale.bigItems;
    const n = count.toLocaleString('en-US');
    log(`  marking ${n} items…`);
    const big = await bigRun(freshDirectory(work, 'big'), count);
    log(`  ${n} marks in ${(big.elapsedMs / 1000).toFixed(1)} s, ${big.compactions} compactions; p50 ${big.latencies.p50.toFixed(3)} ms, p99 ${big.latencies.p99.toFixed(3)} ms, max ${big.latencies.max.toFixed(1)} ms`);
    const raw = await rawRun(freshDirectory(work, 'big-raw'), Math.min(count, 200_000));
    const figures: Figure[] = latencyFigures(big.latencies, raw, count, big.compactions);

    log('  opening it in child processes…');
    const opened = await child<OpenResult>('open', big.file, count, scale.repetitions);
    const heapOurs = await child<{ bytesPerItem: number }>('heap-ours', big.file, count, 1);
    const heapSet = await child<{ bytesPerItem: number }>('heap-set', big.file, count, 1);
    const snapshotBytes = statSync(big.file).size;
    const keysBytes = Buffer.byteLength(JSON.stringify(Array.from({ length: count }, (_, i) => keyOf(i))));
    const keyLength = keyOf(0).length;
    figures.push(
      costFigure({ id: 'big.open', scenario: 6, label: `open a ${n}-item checkpoint`, value: opened.openMs, unit: 'ms', baseline: { label: 'readFileSync + JSON.parse of the same snapshot', value: opened.parseMs }, samples: opened.openSamples }),
      costFigure({ id: 'big.openVsSet', scenario: 6, label: `open a ${n}-item checkpoint`, value: opened.openMs, unit: 'ms', baseline: { label: 'readFileSync + JSON.parse + new Set(keys): the least a lookup table costs', value: opened.parseAndSetMs }, samples: opened.openSamples }),
      costFigure({ id: 'big.lookup', scenario: 6, label: `isItemCompleted at ${n} items`, value: opened.lookupNs, unit: 'ns/lookup', baseline: { label: 'Set.has on a Set of the same keys', value: opened.setHasNs }, samples: opened.lookupSamples }),
      costFigure({ id: 'big.heap', scenario: 6, label: `heap + ArrayBuffers after open, ${n} items`, value: heapOurs.bytesPerItem, unit: 'B/item', baseline: { label: 'a Set<string> of the same keys', value: heapSet.bytesPerItem } }),
      costFigure({ id: 'big.snapshot', scenario: 6, label: `snapshot size, ${n} items (keys of ${keyLength} chars)`, value: snapshotBytes / count, unit: 'B/item', baseline: { label: 'JSON.stringify of the bare key array', value: keysBytes / count } }),
    );
    return figures;
  },
};
