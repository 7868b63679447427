/**
 * Opens the checkpoint at argv[2], whose journal holds its changes (as a killed writer leaves
 * it), and prints how much the heap grew to hold it (collected before and after) and how many of
 * the argv[3] items `doc/<7 digits>.json` of step `enrich` it has completed.
 */
import { CheckpointManager } from '../../../src/index.js';

const collect = (globalThis as { gc?: () => void }).gc;
if (!collect) throw new Error('run with --expose-gc');
const heap = (): number => {
  collect();
  collect();
  return process.memoryUsage().heapUsed;
};

const before = heap();
const checkpoint = await CheckpointManager.open({ path: process.argv[2]!, pipeline: 'heap' });
const growth = heap() - before;
let completed = 0;
for (let i = 0, items = Number(process.argv[3]); i < items; i++) if (checkpoint.isItemCompleted('enrich', `doc/${String(i).padStart(7, '0')}.json`)) completed++;
process.stdout.write(`${JSON.stringify({ growth, completed })}\n`);
process.exit(0);
