import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { costFigure, type Figure, type Scenario } from '../lib/figures.js';
import { freshDirectory, ROOT } from '../lib/measure.js';
import { child } from './big.js';

/** Runs build-child.ts until it prints `until`; with `kill`, SIGKILLs it there (a crash). */
function build(directory: string, items: number, durability: 'normal' | 'batched', finish: 'close' | 'kill'): Promise<void> {
  return new Promise((resolve, reject) => {
    const builder = spawn(process.execPath, ['--max-old-space-size=8192', '--import', 'tsx', 'test/bench/build-child.ts', directory, String(items), durability, finish], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    builder.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    builder.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (finish === 'kill' && chunk.includes('marked')) builder.kill('SIGKILL');
    });
    builder.once('error', reject);
    builder.once('close', (code, signal) => {
      const expected = finish === 'kill' ? signal === 'SIGKILL' : code === 0;
      if (expected) resolve();
      else reject(new Error(`building a ${items}-item checkpoint failed (${code ?? signal}):\n${stderr}`));
    });
  });
}

interface OpenResult {
  openMs: number;
  openSamples: number[];
  parseMs: number;
  lookupNs: number;
  lookupSamples: number[];
  setHasNs: number;
}

/**
 * Scenario 12: a 10M-item checkpoint (open, heap, lookups; full run only) and reopening what a
 * `kill -9` left, its journal never compacted, against `JSON.parse` of the compacted snapshot.
 */
export const hugeScenario: Scenario = {
  numbers: [12],
  title: 'a 10M-item checkpoint; reopening after kill -9 with the journal not compacted',
  async run({ scale, work, log }) {
    const figures: Figure[] = [];
    const reopenDirectory = freshDirectory(work, 'reopen');
    const r = scale.reopenItems.toLocaleString('en-US');
    log(`  marking ${r} items ('normal', compaction held off), then kill -9…`);
    await build(reopenDirectory, scale.reopenItems, 'normal', 'kill');
    const reopened = await child<{ reopenMs: number; reopenSamples: number[]; parseMs: number }>('reopen', join(reopenDirectory, 'checkpoint.json'), scale.reopenItems, scale.repetitions);
    figures.push(costFigure({ id: 'reopen.open', scenario: 12, label: `reopen after kill -9, ${r} marks in an uncompacted journal`, value: reopened.reopenMs, unit: 'ms', baseline: { label: 'readFileSync + JSON.parse of the compacted snapshot of the same state', value: reopened.parseMs }, samples: reopened.reopenSamples }));
    if (scale.hugeItems === 0) {
      log('  10M items: not measured in the quick run');
      return figures;
    }
    const h = scale.hugeItems.toLocaleString('en-US');
    log(`  marking ${h} items ('batched', one compaction at close)…`);
    const file = join(freshDirectory(work, 'huge'), 'checkpoint.json');
    await build(join(file, '..'), scale.hugeItems, 'batched', 'close');
    log('  opening it in child processes…');
    const opened = await child<OpenResult>('open', file, scale.hugeItems, scale.repetitions);
    const heapOurs = await child<{ bytesPerItem: number }>('heap-ours', file, scale.hugeItems, 1);
    const heapSet = await child<{ bytesPerItem: number }>('heap-set', file, scale.hugeItems, 1);
    figures.push(
      costFigure({ id: 'huge.open', scenario: 12, label: `open a ${h}-item checkpoint`, value: opened.openMs, unit: 'ms', baseline: { label: 'readFileSync + JSON.parse of the same snapshot', value: opened.parseMs }, samples: opened.openSamples }),
      costFigure({ id: 'huge.lookup', scenario: 12, label: `isItemCompleted at ${h} items (2M shuffled probes)`, value: opened.lookupNs, unit: 'ns/lookup', baseline: { label: 'Set.has on a Set of the same keys', value: opened.setHasNs }, samples: opened.lookupSamples }),
      costFigure({ id: 'huge.heap', scenario: 12, label: `heap + ArrayBuffers after open, ${h} items`, value: heapOurs.bytesPerItem, unit: 'B/item', baseline: { label: 'a Set<string> of the same keys', value: heapSet.bytesPerItem } }),
    );
    return figures;
  },
};
