/**
 * Builds a checkpoint with backups and a journal, then completes it — for tests that kill the
 * process inside complete() (CHECKPOINTER_CRASH_AT). Reports `completing` and `completed`.
 * Arguments: the checkpoint path, the number of items.
 */
import { writeSync } from 'node:fs';
import { CheckpointManager } from '../../src/index.js';

const [path = '', count = '0'] = process.argv.slice(2);
const options = { path, pipeline: 'complete-kill', minCompactBytes: 4096, logger: { warn: () => {}, error: () => {} } };
const half = Math.floor(Number(count) / 2);
let cp = await CheckpointManager.open(options);
for (let n = 0; n < half; n++) await cp.markItemCompleted('work', `item-${n}`);
await cp.close();
cp = await CheckpointManager.open(options);
for (let n = half; n < Number(count); n++) await cp.markItemCompleted('work', `item-${n}`);
writeSync(1, 'completing\n');
const result = await cp.complete();
writeSync(1, `completed ${result.removed}\n`);
