// A run of `forEach` that a test interrupts with signals. Settings come as JSON in argv[2]:
// checkpoint path, a file where every started item is recorded, the number of items, how long
// an item takes, and whether the abort error is caught or left uncaught.
import { appendFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import { CheckpointManager } from '../../../src/index.js';

interface Settings {
  checkpoint: string;
  executions: string;
  items: number;
  itemMs: number;
  concurrency: number;
  shutdownGraceMs: number;
  /** Print READY once this many items completed (0: once the first item started), so the test knows when to send a signal. */
  readyAfter: number;
  /** Whether `fn` stops when its signal fires (false: it ignores the signal and finishes). */
  honourSignal: boolean;
  mode: 'uncaught' | 'catch';
}

const settings = JSON.parse(process.argv[2] ?? '{}') as Settings;
const cp = await CheckpointManager.open({ path: settings.checkpoint, durability: 'normal' });
let completed = 0;
let started = false;
cp.on('item', (event) => {
  if (event.status === 'completed' && ++completed === settings.readyAfter) process.stdout.write('READY\n');
});

const items = Array.from({ length: settings.items }, (_, i) => `item-${String(i).padStart(4, '0')}`);
const run = cp.step('work').forEach(
  items,
  async (item, { signal }) => {
    appendFileSync(settings.executions, `${item}\n`);
    if (settings.readyAfter === 0 && !started) process.stdout.write('READY\n');
    started = true;
    await delay(settings.itemMs, undefined, settings.honourSignal ? { signal } : {});
    return { length: item.length };
  },
  { concurrency: settings.concurrency, shutdownGraceMs: settings.shutdownGraceMs },
);

if (settings.mode === 'catch') {
  try {
    await run;
  } catch (error) {
    process.stdout.write(`CAUGHT ${(error as { code?: string }).code} exitCode=${String(process.exitCode)}\n`);
  }
} else {
  const report = await run;
  process.stdout.write(`DONE ${JSON.stringify({ ...report, failures: report.failures.length })}\n`);
}
await cp.close();
