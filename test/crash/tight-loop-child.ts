/**
 * The loop users naturally write — `for (…) await cp.markItemCompleted(…)` with `normal`
 * durability, where every mark resolves in a microtask and the event loop never turns — then a
 * kill -9 of itself right after the last acknowledged mark, before any close.
 * Arguments: the checkpoint path, the number of marks.
 */
import { writeSync } from 'node:fs';
import { CheckpointManager } from '../../src/index.js';

const [path = '', count = '0'] = process.argv.slice(2);
const cp = await CheckpointManager.open({ path, pipeline: 'tight-loop', logger: { warn: () => {}, error: () => {} } });
for (let n = 0; n < Number(count); n++) await cp.markItemCompleted('work', `item-${n}`);
writeSync(1, 'acknowledged\n');
process.kill(process.pid, 'SIGKILL');
